public import AtelierCore
import Foundation
public import Logging
import NIOCore
import PostgresNIO

/// The `JobStore` engine for when one machine is not enough: PostgreSQL through postgres-nio's
/// connection pool, shared by any number of server nodes.
///
/// Every state change is one transaction on one pooled connection. Dispatch locks the fair-queue
/// rows of the creators it serves with `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers (on
/// this node or others) split the creators between them instead of queueing behind each other.
/// Writers that touch a creator's queued jobs (cancel) take that creator's fair-queue row first,
/// the same order as dispatch, so they cannot deadlock with it.
public final class PostgresJobStore: JobStore {
    let connector: PostgresConnector
    let logger: Logger
    public let workSignal = WorkSignal()
    public let defaultQuotas: Quotas
    let notifier: PostgresWorkNotifier

    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database`),
    /// runs the connection pool in the background, brings the schema up to date and starts
    /// listening for work announced by other nodes.
    public init(url: String, logger: Logger = Logger(label: "atelier.postgres"), defaultQuotas: Quotas = .unlimited) async throws {
        self.defaultQuotas = defaultQuotas
        let parsed = try PostgresURL(url)
        connector = PostgresConnector(url: parsed, logger: logger)
        self.logger = logger
        do {
            _ = try await connector.withConnection { connection in
                try await PostgresSchema.migrate(connection, logger: logger)
            }
        } catch {
            await connector.shutdown()
            throw error
        }
        notifier = PostgresWorkNotifier(url: parsed, connector: connector, signal: workSignal, logger: logger)
        try await notifier.start()
    }

    deinit {
        notifier.cancel()
        connector.cancel()
    }

    /// Brings the schema at `url` up to date without starting a store (`atelier migrate`);
    /// returns the versions applied now and the latest version the database has.
    public static func migrate(url: String, logger: Logger = Logger(label: "atelier.postgres"))
        async throws -> (applied: [Int], latest: Int) {
        let client = PostgresClient(configuration: try PostgresURL(url).clientConfiguration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        let applied = try await client.withConnection { connection in
            try await PostgresSchema.migrate(connection, logger: logger)
        }
        return (applied, PostgresSchema.migrations.map(\.version).max() ?? 0)
    }

    /// Deletes every creator, job, worker and key (the schema stays). For benchmarks that need
    /// an empty database; never called by the server.
    public func removeEverything() async throws {
        try await transaction { connection in
            var tables: [String] = []
            for try await name in try await connection.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'atelier_migrations'",
                logger: self.logger).decode(String.self) {
                tables.append("\"\(name)\"")
            }
            guard !tables.isEmpty else { return }
            try await connection.query(PostgresQuery(unsafeSQL: "TRUNCATE \(tables.joined(separator: ", ")) CASCADE"), logger: self.logger)
        }
    }

    /// Closes the connection pool and the listener. The store is unusable afterwards.
    public func shutdown() async {
        await notifier.shutdown()
        await connector.shutdown()
    }

    /// Whether the database answered the last time it was asked.
    public var isAvailable: Bool { connector.isAvailable }

    public func performHousekeeping() async throws {
        // PostgreSQL's autovacuum does the upkeep.
    }

    // MARK: Transactions

    /// Runs `body` in a transaction on one connection: committed when it returns, rolled back
    /// when it throws (the original error is rethrown, not wrapped). A deadlock or serialisation
    /// failure, which PostgreSQL resolves by aborting one side, is retried a few times.
    func transaction<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await retryingTransient {
            try await self.connection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Runs `body`, which must send exactly one statement (PostgreSQL makes it a transaction of
    /// its own): `transaction` without the BEGIN and COMMIT round trips.
    func statement<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        try await retryingTransient { try await self.connection(body) }
    }

    /// Runs `attempt` again when PostgreSQL aborted it to resolve a deadlock or a serialisation
    /// failure (up to four times in all), or when a dispatch plan went stale under a concurrent
    /// dispatcher. A stale plan is planned again reading each creator's jobs only after its
    /// row is locked (`planAfterLocking`), which cannot go stale; retrying the one-statement
    /// plan instead (up to sixteen times) let two dispatchers leasing back to back from the
    /// same few creators fall into step, each plan of one straddling the other's commit, until
    /// the retries ran out (found by the two-node fairness benchmark).
    private func retryingTransient<T: Sendable>(_ attempt: () async throws -> T) async throws -> T {
        var attempts = 0
        var planAfterLocking = false
        while true {
            attempts += 1
            do {
                return try await Self.$planAfterLocking.withValue(planAfterLocking) { try await attempt() }
            } catch let error as PSQLError where attempts < 4 && Self.isTransient(error) {
                logger.debug("retrying a transaction after \(error.serverInfo?[.sqlState] ?? "?")")
            } catch is StaleDispatchPlan where attempts < 4 {
                logger.debug("planning a lease again: another dispatcher took a planned job")
                planAfterLocking = true
            } catch is StaleDispatchPlan {
                throw StoreError(.unavailable, "dispatch kept colliding with other dispatchers; try again shortly")
            }
        }
    }

    /// A single statement outside an explicit transaction.
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection { connection in
            try await connection.query(query, logger: self.logger).collect()
        }
    }

    /// Runs `body` on a pooled connection; `StoreError.unavailable` when the database cannot
    /// be reached (see `PostgresConnector`).
    func connection<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        try await connector.withConnection(body)
    }

    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// Deadlock detected or serialisation failure: the transaction may simply be run again.
    static func isTransient(_ error: PSQLError) -> Bool {
        ["40P01", "40001"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    /// unique_violation
    static func isUniqueViolation(_ error: any Error) -> Bool {
        sqlState(error) == "23505"
    }

    /// foreign_key_violation
    static func isForeignKeyViolation(_ error: any Error) -> Bool {
        sqlState(error) == "23503"
    }

    // MARK: Creators, workers and keys

    public func createCreator(_ creator: Creator, keyHash: String?) async throws {
        try await insertUnique(kind: "creator", name: creator.name) { connection in
            try await connection.query("""
                INSERT INTO creators (id, name, weight, credits, created_at, max_queued, max_running, max_daily_credits)
                VALUES (\(creator.id.rawValue), \(creator.name), \(Int64(creator.weight)), \(Int64(creator.credits)),
                        \(StoredRows.micros(creator.createdAt)), \(creator.quotas.maxQueuedJobs.map { Int64($0) }),
                        \(creator.quotas.maxRunningJobs.map { Int64($0) }), \(creator.quotas.maxDailyCredits.map { Int64($0) }))
                """, logger: self.logger)
            if creator.credits > 0 {
                try await connection.query("""
                    INSERT INTO credit_transactions (creator_id, kind, amount, actor, reason, created_at)
                    VALUES (\(creator.id.rawValue), 'grant', \(Int64(creator.credits)), 'admin', 'opening grant',
                            \(StoredRows.micros(creator.createdAt)))
                    """, logger: self.logger)
            }
            if let keyHash {
                try await connection.query("""
                    INSERT INTO api_keys (key_hash, role, creator_id, created_at)
                    VALUES (\(keyHash), 'creator', \(creator.id.rawValue), \(StoredRows.micros(creator.createdAt)))
                    """, logger: self.logger)
            }
        }
    }

    public func creator(id: CreatorID) async throws -> Creator? {
        try await query("SELECT \(unescaped: StoredRows.creatorColumns) FROM creators WHERE id = \(id.rawValue)")
            .first.map { StoredRows.creator(PostgresColumns($0)) }
    }

    public func creators() async throws -> [Creator] {
        try await query("SELECT \(unescaped: StoredRows.creatorColumns) FROM creators ORDER BY created_at, id")
            .map { StoredRows.creator(PostgresColumns($0)) }
    }

    public func createWorker(_ worker: Worker, keyHash: String) async throws {
        try await insertUnique(kind: "worker", name: worker.name) { connection in
            try await connection.query("""
                INSERT INTO workers (id, name, created_at)
                VALUES (\(worker.id.rawValue), \(worker.name), \(StoredRows.micros(worker.createdAt)))
                """, logger: self.logger)
            try await connection.query("""
                INSERT INTO api_keys (key_hash, role, worker_id, created_at)
                VALUES (\(keyHash), 'worker', \(worker.id.rawValue), \(StoredRows.micros(worker.createdAt)))
                """, logger: self.logger)
        }
    }

    public func workers() async throws -> [Worker] {
        try await query("SELECT id, name, created_at FROM workers ORDER BY created_at, id").map { row in
            let columns = PostgresColumns(row)
            return Worker(id: WorkerID(rawValue: columns.text(0) ?? "") ?? WorkerID(rawValue: "invalid")!,
                          name: columns.text(1) ?? "", createdAt: StoredRows.date(columns.integer(2) ?? 0))
        }
    }

    public func principal(keyHash: String) async throws -> Principal? {
        guard let row = try await query(
            "SELECT role, creator_id, worker_id FROM api_keys WHERE key_hash = \(keyHash)").first
        else { return nil }
        let columns = PostgresColumns(row)
        switch columns.text(0) {
        case "creator": return columns.text(1).flatMap(CreatorID.init(rawValue:)).map(Principal.creator)
        case "worker": return columns.text(2).flatMap(WorkerID.init(rawValue:)).map(Principal.worker)
        default: return nil
        }
    }

    /// Runs an insert of a named record, turning a unique-constraint violation into `duplicateName`.
    private func insertUnique(kind: String, name: String,
                              _ insert: @Sendable @escaping (PostgresConnection) async throws -> Void) async throws {
        do {
            try await transaction(insert)
        } catch where Self.isUniqueViolation(error) {
            throw StoreError(.duplicateName, "a \(kind) named \"\(name)\" already exists")
        }
    }

    // MARK: Reading jobs

    public func job(id: JobID, scope: AccessScope) async throws -> Job? {
        try await connection { connection in
            try await Self.record(connection, id: id, scope: scope, logger: self.logger)?.job
        }
    }

    /// A job and its stored state, if it exists and the scope may see it. `lock` takes the row
    /// lock for the rest of the transaction.
    static func record(_ connection: PostgresConnection, id: JobID, scope: AccessScope, lock: Bool = false,
                       logger: Logger) async throws -> (job: Job, state: String)? {
        let rows = try await connection.query("""
            SELECT \(unescaped: StoredRows.jobColumns) FROM jobs WHERE id = \(id.rawValue) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger).collect()
        guard let row = rows.first else { return nil }
        let columns = PostgresColumns(row)
        let job = StoredRows.job(columns).job
        if let creator = scope.creatorID, creator != job.creatorID { return nil }
        return (job, columns.text(Int32(StoredRows.stateColumn)) ?? "")
    }

    public func jobs(_ query: JobQuery) async throws -> JobPage {
        let limit = StoreArguments.pageLimit(query.limit)
        var sql = PostgresQuery(unsafeSQL: "")
        var conditions: [String] = []
        var bindings = PostgresBindings()
        if let creator = query.scope.creatorID {
            bindings.append(creator.rawValue)
            conditions.append("creator_id = $\(bindings.count)")
        }
        if let status = query.status {
            if status == .queued {
                conditions.append("state IN ('queued', 'waiting')")
            } else if status == .running {
                conditions.append("state IN ('running', 'blocked')")
            } else {
                bindings.append(status.rawValue)
                conditions.append("state = $\(bindings.count)")
            }
        }
        if let cursor = query.cursor {
            bindings.append(cursor.rawValue)
            conditions.append("id < $\(bindings.count)")
        }
        bindings.append(Int64(limit + 1))
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        sql = PostgresQuery(
            unsafeSQL: "SELECT \(StoredRows.jobColumns) FROM jobs \(filter) ORDER BY id DESC LIMIT $\(bindings.count)",
            binds: bindings)
        let jobs = try await self.query(sql).map { StoredRows.job(PostgresColumns($0)).job }
        let page = Array(jobs.prefix(limit))
        return JobPage(jobs: page, nextCursor: jobs.count > limit ? page.last?.id : nil)
    }

    public func artifacts(of job: JobID) async throws -> [Artifact] {
        try await query("""
            SELECT \(unescaped: StoredRows.artifactColumns) FROM artifacts WHERE job_id = \(job.rawValue) ORDER BY name
            """).map { StoredRows.artifact(PostgresColumns($0)) }
    }

    public func artifact(id: ArtifactID, scope: AccessScope) async throws -> Artifact? {
        let columns = StoredRows.artifactColumns.split(separator: ",")
            .map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        let rows: [PostgresRow]
        if let creator = scope.creatorID {
            rows = try await query("""
                SELECT \(unescaped: columns) FROM artifacts a JOIN jobs j ON j.id = a.job_id
                WHERE a.id = \(id.rawValue) AND j.creator_id = \(creator.rawValue)
                """)
        } else {
            rows = try await query("SELECT \(unescaped: columns) FROM artifacts a WHERE a.id = \(id.rawValue)")
        }
        return rows.first.map { StoredRows.artifact(PostgresColumns($0)) }
    }

    public func createUpload(_ upload: Upload) async throws {
        _ = try await query("""
            INSERT INTO uploads (\(unescaped: StoredRows.uploadColumns))
            VALUES (\(upload.id.rawValue), \(upload.creatorID.rawValue), \(upload.kind.rawValue), \(upload.contentType),
                    \(Int64(upload.byteCount)), \(upload.sha256), \(Int64(upload.width)), \(Int64(upload.height)),
                    \(upload.durationS.map { Int64(($0 * 1000).rounded()) }), \(StoredRows.featuresJSON(upload.features)),
                    \(upload.storageKey), \(StoredRows.micros(upload.createdAt)))
            """)
    }

    public func upload(id: UploadID, scope: AccessScope) async throws -> Upload? {
        let rows: [PostgresRow]
        if let creator = scope.creatorID {
            rows = try await query("""
                SELECT \(unescaped: StoredRows.uploadColumns) FROM uploads WHERE id = \(id.rawValue) AND creator_id = \(creator.rawValue)
                """)
        } else {
            rows = try await query("SELECT \(unescaped: StoredRows.uploadColumns) FROM uploads WHERE id = \(id.rawValue)")
        }
        return rows.first.map { StoredRows.upload(PostgresColumns($0)) }
    }

    public func queueSummary(pool: PoolName) async throws -> [CreatorQueueSummary] {
        try await query("""
            SELECT creator_id,
                   COUNT(*) FILTER (WHERE state IN ('queued', 'waiting')),
                   COUNT(*) FILTER (WHERE state = 'running'),
                   MIN(created_at) FILTER (WHERE state IN ('queued', 'waiting'))
            FROM jobs
            WHERE pool = \(pool.rawValue) AND state IN ('queued', 'waiting', 'running')
            GROUP BY creator_id
            ORDER BY creator_id
            """).map { row in
                let columns = PostgresColumns(row)
                return CreatorQueueSummary(
                    creatorID: CreatorID(rawValue: columns.text(0) ?? "") ?? CreatorID(rawValue: "invalid")!,
                    queued: Int(columns.integer(1) ?? 0), running: Int(columns.integer(2) ?? 0),
                    oldestQueuedAt: StoredRows.optionalDate(columns.integer(3))
                )
            }
    }
}

/// A postgres-nio row read by column index, for `StoredRows`.
struct PostgresColumns: ColumnReader {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    func text(_ column: Int32) -> String? {
        let cell = row[Int(column)]
        guard cell.bytes != nil else { return nil }
        return try? cell.decode(String.self)
    }

    func integer(_ column: Int32) -> Int64? {
        let cell = row[Int(column)]
        guard cell.bytes != nil else { return nil }
        if cell.dataType == .bool { return (try? cell.decode(Bool.self)).map { $0 ? 1 : 0 } }
        return try? cell.decode(Int64.self)
    }

    func bytes(_ column: Int32) -> [UInt8]? {
        let cell = row[Int(column)]
        guard var buffer = cell.bytes else { return nil }
        return buffer.readBytes(length: buffer.readableBytes)
    }

    func real(_ column: Int32) -> Double? {
        let cell = row[Int(column)]
        guard cell.bytes != nil else { return nil }
        return try? cell.decode(Double.self)
    }
}
