public import AtelierCore
import Foundation
import GRDB

/// The embedded `JobStore` engine: one SQLite file in WAL mode, driven through GRDB.
///
/// Writes are serialised by GRDB's single writer connection, so every dispatch sees the fair
/// queue exactly as the previous one left it; reads run concurrently on reader connections.
public final class SQLiteJobStore: JobStore {
    /// How much of a commit must reach the disk before the call returns.
    public enum Durability: String, Sendable, CaseIterable {
        /// fsync on every commit: a job acknowledged is on disk even through a power cut.
        case full
        /// fsync at WAL checkpoints only: survives a process crash, may lose the last commits on
        /// power loss. For benchmarks and throw-away installs.
        case normal
    }

    /// Reads go straight to the pool; writes go through `write`, which counts them.
    let database: DatabasePool
    /// A separate connection that copies the WAL back into the database without blocking writers.
    private let checkpointer: DatabaseQueue
    public let workSignal = WorkSignal()
    /// Advanced after every write transaction; lets the API serve a job read before it unchanged.
    public let writeGeneration: WriteGeneration? = WriteGeneration()
    public let defaultQuotas: Quotas

    /// Page cache sizes, in KiB, of the writing connection and of each reading one.
    static let writerCacheKiB = 16_384
    static let readerCacheKiB = 4_096

    /// WAL frames (pages) beyond which housekeeping checkpoints through the writer and truncates.
    static let walFrameLimit = 16_384

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String, durability: Durability = .full, defaultQuotas: Quotas = .unlimited) throws {
        self.defaultQuotas = defaultQuotas
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.maximumReaderCount = 4
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA page_size = 8192")
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            // Page caches: the writer's holds the pages a batch touches (more than 16 MB made no
            // difference to any benchmark); readers look up a few pages per request. Together
            // with no memory map, this keeps a server with 100,000 queued jobs near 75 MB
            // (64 MB caches and a 1 GB map: 184 MB, the map counting every page it touched).
            try db.execute(sql: "PRAGMA cache_size = -\(db.configuration.readonly ? Self.readerCacheKiB : Self.writerCacheKiB)")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Checkpoints run from `performHousekeeping`; an automatic one would stall whichever
            // commit crossed the threshold (measured: p99 dispatch 15 ms → 1 ms).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        database = try DatabasePool(path: path, configuration: configuration)
        try SQLiteSchema.migrator().migrate(database)
        var side = Configuration()
        side.busyMode = .timeout(1)
        checkpointer = try DatabaseQueue(path: path, configuration: side)
    }

    /// One write transaction, counted in `writeGeneration` once it has committed a change, so no
    /// cached read outlives one. A transaction that changed no row (housekeeping finding nothing
    /// to reclaim) is not counted; one that failed is, since whether it committed is not known.
    /// Every write of the engine comes here.
    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        do {
            let (value, changed) = try await database.write { db in
                let before = db.totalChangesCount
                let value = try updates(db)
                return (value, db.totalChangesCount != before)
            }
            if changed { writeGeneration?.advance() }
            return value
        } catch {
            writeGeneration?.advance()
            throw error
        }
    }

    /// Checkpoints the write-ahead log into the database file and closes it.
    public func shutdown() async {
        try? await database.writeWithoutTransaction { db in
            _ = try? db.checkpoint(.truncate)
        }
        try? checkpointer.close()
        try? database.close()
    }

    /// Keeps the write-ahead log short without stalling commits. The side connection copies
    /// the log back into the database while writes go on, but cannot finish while they do; a
    /// log never fully copied is never reused, so it grew until a truncating checkpoint through
    /// the writer stalled every commit behind it (~80 ms every few seconds: the p99 of
    /// POST /v1/jobs at ~900 requests/s). So a second passive pass runs through the writer: it
    /// copies only what was added since the first — little — and leaves the log fully copied,
    /// so the next commit starts it over (that p99: 80 → 3.4 ms). Truncation remains for a log
    /// that long-running readers kept from being reused.
    public func performHousekeeping() async throws {
        // An `Int` (the pragma's "busy" column), not a `Row`, so that the asynchronous overload
        // applies: a `Row` is not `Sendable`, and the blocking one held a cooperative thread.
        _ = try await checkpointer.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
        }
        let frames = try await database.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)").map { $0[1] as Int } ?? 0
        }
        if frames > Self.walFrameLimit {
            try await database.writeWithoutTransaction { db in
                _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
    }

    // MARK: Creators

    public func createCreator(_ creator: Creator, keyHash: String?) async throws {
        try await insertUnique(kind: "creator", name: creator.name) { db in
            try db.execute(
                sql: """
                    INSERT INTO creators (id, name, weight, credits, created_at, max_queued, max_running, max_daily_credits)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [creator.id.rawValue, creator.name, creator.weight, creator.credits,
                            StoredRows.micros(creator.createdAt), creator.quotas.maxQueuedJobs,
                            creator.quotas.maxRunningJobs, creator.quotas.maxDailyCredits]
            )
            if creator.credits > 0 {
                try Self.append(db, [CreditLine(creator: creator.id.rawValue, kind: "grant", amount: creator.credits, job: nil,
                                                actor: "admin", reason: "opening grant")],
                                now: StoredRows.micros(creator.createdAt))
            }
            if let keyHash {
                try db.execute(
                    sql: "INSERT INTO api_keys (key_hash, role, creator_id, created_at) VALUES (?, 'creator', ?, ?)",
                    arguments: [keyHash, creator.id.rawValue, StoredRows.micros(creator.createdAt)]
                )
            }
        }
    }

    public func creator(id: CreatorID) async throws -> Creator? {
        try readNow { db in
            try Row.fetchOne(db, sql: "SELECT \(StoredRows.creatorColumns) FROM creators WHERE id = ?",
                             arguments: [id.rawValue]).map(StoredRows.creator)
        }
    }

    public func creators() async throws -> [Creator] {
        try readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(StoredRows.creatorColumns) FROM creators ORDER BY created_at, id")
                .map(StoredRows.creator)
        }
    }

    public func createWorker(_ worker: Worker, keyHash: String) async throws {
        try await insertUnique(kind: "worker", name: worker.name) { db in
            try db.execute(
                sql: "INSERT INTO workers (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [worker.id.rawValue, worker.name, StoredRows.micros(worker.createdAt)]
            )
            try db.execute(
                sql: "INSERT INTO api_keys (key_hash, role, worker_id, created_at) VALUES (?, 'worker', ?, ?)",
                arguments: [keyHash, worker.id.rawValue, StoredRows.micros(worker.createdAt)]
            )
        }
    }

    public func workers() async throws -> [Worker] {
        try readNow { db in
            try Row.fetchAll(db, sql: "SELECT id, name, created_at FROM workers ORDER BY created_at, id").map { row in
                Worker(id: WorkerID(rawValue: row[0])!, name: row[1], createdAt: StoredRows.date(row[2] as Int64))
            }
        }
    }

    public func principal(keyHash: String) async throws -> Principal? {
        try readNow { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT role, creator_id, worker_id FROM api_keys WHERE key_hash = ?", arguments: [keyHash]
            ) else { return nil }
            switch row[0] as String {
            case "creator": return (row[1] as String?).flatMap(CreatorID.init(rawValue:)).map(Principal.creator)
            case "worker": return (row[2] as String?).flatMap(WorkerID.init(rawValue:)).map(Principal.worker)
            default: return nil
            }
        }
    }

    /// Runs an insert of a named record, turning a unique-constraint violation into `duplicateName`.
    private func insertUnique(kind: String, name: String, _ insert: @Sendable @escaping (Database) throws -> Void) async throws {
        do {
            try await write(insert)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StoreError(.duplicateName, "a \(kind) named \"\(name)\" already exists")
        }
    }

    // MARK: Reading jobs

    /// Point reads run on the calling thread. GRDB's async `read` hops to a reader's queue and
    /// back, which cost several times the query itself (measured with wrk: `GET /v1/me` went
    /// from 3,000 to 4,200 requests/s). Only reads bounded by an index probe or one page belong here;
    /// scans stay on `database.read` so they never hold a cooperative thread.
    ///
    /// Every body is a single SELECT, which SQLite already runs on one snapshot, so the explicit
    /// BEGIN/COMMIT that `read` adds around it buys nothing and is skipped.
    func readNow<T>(_ body: (Database) throws -> T) throws -> T {
        try database.unsafeRead(body)
    }

    public func job(id: JobID, scope: AccessScope) async throws -> Job? {
        try readNow { db in try Self.job(db, id: id, scope: scope) }
    }

    static func job(_ db: Database, id: JobID, scope: AccessScope) throws -> Job? {
        try record(db, id: id, scope: scope)?.job
    }

    /// A job and its stored state (which tells a job waiting out a retry from a ready one), if
    /// it exists and the scope may see it.
    static func record(_ db: Database, id: JobID, scope: AccessScope) throws -> (job: Job, state: String)? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(StoredRows.jobColumns) FROM jobs WHERE id = ?"),
            arguments: [id.rawValue]
        )
        guard let row else { return nil }
        let job = StoredRows.job(row).job
        if let creator = scope.creatorID, creator != job.creatorID { return nil }
        return (job, row[StoredRows.stateColumn])
    }

    public func jobs(_ query: JobQuery) async throws -> JobPage {
        let limit = StoreArguments.pageLimit(query.limit)
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let creator = query.scope.creatorID {
            conditions.append("creator_id = ?")
            arguments += [creator.rawValue]
        }
        if let status = query.status {
            switch status {
            case .queued: conditions.append("state IN ('queued', 'waiting')")
            case .running: conditions.append("state IN ('running', 'blocked')")
            default:
                conditions.append("state = ?")
                arguments += [status.rawValue]
            }
        }
        if let cursor = query.cursor {
            conditions.append("id < ?")
            arguments += [cursor.rawValue]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [limit + 1]
        let sql = "SELECT \(StoredRows.jobColumns) FROM jobs \(filter) ORDER BY id DESC LIMIT ?"
        let jobs = try readNow { [arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { StoredRows.job($0).job }
        }
        let page = Array(jobs.prefix(limit))
        return JobPage(jobs: page, nextCursor: jobs.count > limit ? page.last?.id : nil)
    }

    public func artifacts(of job: JobID) async throws -> [Artifact] {
        try readNow { db in
            try Row.fetchAll(
                db, sql: "SELECT \(StoredRows.artifactColumns) FROM artifacts WHERE job_id = ? ORDER BY name",
                arguments: [job.rawValue]
            ).map(StoredRows.artifact)
        }
    }

    public func artifact(id: ArtifactID, scope: AccessScope) async throws -> Artifact? {
        try readNow { db in
            var sql = """
                SELECT \(StoredRows.artifactColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                FROM artifacts a JOIN jobs j ON j.id = a.job_id WHERE a.id = ?
                """
            var arguments: StatementArguments = [id.rawValue]
            if let creator = scope.creatorID {
                sql += " AND j.creator_id = ?"
                arguments += [creator.rawValue]
            }
            return try Row.fetchOne(db, sql: sql, arguments: arguments).map(StoredRows.artifact)
        }
    }

    public func createUpload(_ upload: Upload) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO uploads (\(StoredRows.uploadColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    upload.id.rawValue, upload.creatorID.rawValue, upload.kind.rawValue, upload.contentType, upload.byteCount,
                    upload.sha256, upload.width, upload.height, upload.durationS.map { Int(($0 * 1000).rounded()) },
                    StoredRows.featuresJSON(upload.features), upload.storageKey, StoredRows.micros(upload.createdAt),
                ]
            )
        }
    }

    public func upload(id: UploadID, scope: AccessScope) async throws -> Upload? {
        try readNow { db in
            var sql = "SELECT \(StoredRows.uploadColumns) FROM uploads WHERE id = ?"
            var arguments: StatementArguments = [id.rawValue]
            if let creator = scope.creatorID {
                sql += " AND creator_id = ?"
                arguments += [creator.rawValue]
            }
            return try Row.fetchOne(db, sql: sql, arguments: arguments).map(StoredRows.upload)
        }
    }

    public func queueSummary(pool: PoolName) async throws -> [CreatorQueueSummary] {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT creator_id,
                       SUM(state IN ('queued', 'waiting')),
                       SUM(state = 'running'),
                       MIN(CASE WHEN state IN ('queued', 'waiting') THEN created_at END)
                FROM jobs
                WHERE pool = ? AND state IN ('queued', 'waiting', 'running')
                GROUP BY creator_id
                ORDER BY creator_id
                """, arguments: [pool.rawValue])
            return rows.map { row in
                CreatorQueueSummary(
                    creatorID: CreatorID(rawValue: row[0])!, queued: row[1], running: row[2],
                    oldestQueuedAt: StoredRows.optionalDate(row[3])
                )
            }
        }
    }
}
