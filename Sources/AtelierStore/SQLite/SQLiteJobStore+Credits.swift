public import AtelierCore
public import Foundation
import GRDB

/// Credits on SQLite: the log lines and the cached account change in the transaction that
/// explains them (see `CreditRules`). SQLite has one writer, so a check and the change it
/// guards cannot interleave with another transaction.
extension SQLiteJobStore {
    /// Holds each creator's share of `jobs` (top-level jobs only: scene jobs draw on their
    /// film) and writes one `reserve` line per job. A creator without enough available credit
    /// fails the whole batch with `insufficientCredits`.
    static func reserve(_ db: Database, for jobs: [NewJob], now: Int64) throws {
        var asked: [CreatorID: Int] = [:]
        for job in jobs where job.parentID == nil { asked[job.creatorID, default: 0] += job.cost }
        for creator in asked.keys.sorted() {
            let amount = asked[creator]!
            let held = try Row.fetchOne(
                db.cachedStatement(sql: """
                    UPDATE creators SET reserved = reserved + ?1 WHERE id = ?2 AND credits - reserved >= ?1 RETURNING 1
                    """),
                arguments: [amount, creator.rawValue])
            guard held == nil else { continue }
            let available = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT credits - reserved FROM creators WHERE id = ?"),
                arguments: [creator.rawValue]) ?? 0
            throw StoreError.insufficientCredits(creator, available: available, required: amount)
        }
        try append(db, jobs.filter { $0.parentID == nil }.map {
            CreditLine(creator: $0.creatorID.rawValue, kind: "reserve", amount: $0.cost, job: $0.id.rawValue,
                       actor: $0.creatorID.rawValue, reason: nil)
        }, now: now)
    }

    /// One line for `append`.
    struct CreditLine {
        var creator: String
        var kind: String
        var amount: Int
        var job: String?
        var actor: String
        var reason: String?
    }

    /// Appends lines to their creators' chains (see the schema): each line points at its
    /// creator's line before, and the creator's row at its newest. Ids are given here rather
    /// than by SQLite (the log's writer is the database's only writer), so the chain is known
    /// before anything is written and a batch goes in as multi-row inserts.
    static func append(_ db: Database, _ lines: some Collection<CreditLine>, now: Int64) throws {
        guard !lines.isEmpty else { return }
        var next = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM credit_transactions")) ?? 0) + 1
        // Each creator's newest line so far (one hash per line: a batch is thousands of lines).
        var newest: [String: Int64] = [:]
        let read = try db.cachedStatement(sql: "SELECT last_line FROM creators WHERE id = ?")
        var chunk: [(id: Int64, previous: Int64?, line: CreditLine)] = []
        chunk.reserveCapacity(min(lines.count, appendChunk))
        for line in lines {
            let id = next
            // 0: the creator's first line in this batch (ids start at 1); its row knows the one before.
            let before = exchange(&newest[line.creator, default: 0], with: id)
            let previous = before != 0 ? before : try Int64.fetchOne(read, arguments: [line.creator])
            chunk.append((id, previous, line))
            next += 1
            if chunk.count == appendChunk {
                try insert(db, chunk, now: now)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try insert(db, chunk, now: now) }
        let update = try db.cachedStatement(sql: "UPDATE creators SET last_line = ? WHERE id = ?")
        for (creator, last) in newest { try update.execute(arguments: [last, creator]) }
    }

    /// Stores `new` and returns what `value` held, in one access.
    private static func exchange(_ value: inout Int64, with new: Int64) -> Int64 {
        defer { value = new }
        return value
    }

    /// Lines per INSERT statement in `append`.
    private static let appendChunk = 64

    private static func insert(_ db: Database, _ rows: [(id: Int64, previous: Int64?, line: CreditLine)], now: Int64) throws {
        let values = repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
        // Bound through SQLite's C API: a line is written for every job queued and ended.
        let statement = SQLiteRawStatement(try db.cachedStatement(sql: """
            INSERT INTO credit_transactions (id, creator_id, previous_id, kind, amount, job_id, actor, reason, created_at)
            VALUES \(values)
            """))
        var index: Int32 = 0
        for row in rows {
            statement.bind(index + 1, row.id)
            statement.bind(index + 2, row.line.creator)
            statement.bind(index + 3, row.previous)
            statement.bind(index + 4, row.line.kind)
            statement.bind(index + 5, row.line.amount)
            statement.bind(index + 6, row.line.job)
            statement.bind(index + 7, row.line.actor)
            statement.bind(index + 8, row.line.reason)
            statement.bind(index + 9, now)
            index += 9
        }
        try statement.run()
    }

    /// Settles the reservation of every job of `ids` that has just ended and still holds one.
    static func settleCredits(_ db: Database, jobs ids: [String], now: Date) throws {
        guard !ids.isEmpty else { return }
        let settlements = try Row.fetchAll(
            db.cachedStatement(sql: """
                UPDATE jobs SET charged = \(CreditRules.chargeSQL(.sqlite))
                WHERE id IN (SELECT value FROM json_each(?)) AND parent_id IS NULL AND charged IS NULL
                  AND state IN ('succeeded', 'failed', 'canceled')
                RETURNING creator_id, id, cost, charged, state
                """),
            arguments: [jsonArray(ids)]
        ).map { CreditSettlement(creatorID: $0[0], jobID: $0[1], cost: $0[2], charged: $0[3], state: $0[4]) }
        try post(db, settlements, now: now)
    }

    /// Writes the capture and release lines of `settlements` and moves the accounts with them.
    static func post(_ db: Database, _ settlements: [CreditSettlement], now: Date) throws {
        guard !settlements.isEmpty else { return }
        var lines: [CreditLine] = []
        lines.reserveCapacity(settlements.count)
        for settlement in settlements {
            for (kind, amount) in [("capture", settlement.charged), ("release", settlement.released)] where amount > 0 {
                lines.append(CreditLine(creator: settlement.creatorID, kind: kind, amount: amount, job: settlement.jobID,
                                        actor: CreditTransaction.platformActor, reason: settlement.reason))
            }
        }
        try append(db, lines, now: StoredRows.micros(now))
        let day = QuotaRules.dayNumber(of: now)
        for total in settlements.totalsByCreator() {
            try db.cachedStatement(sql: """
                UPDATE creators SET credits = credits - ?1, reserved = reserved - ?2,
                    spent_today = CASE WHEN spent_day = ?3 THEN spent_today + ?1 ELSE ?1 END, spent_day = ?3
                WHERE id = ?4
                """).execute(arguments: [total.charged, total.cost, day, total.creator])
        }
    }

    public func adjustCredits(_ change: CreditChange, now: Date) async throws -> CreditAccount {
        try await write { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT credits, reserved FROM creators WHERE id = ?"),
                arguments: [change.creatorID.rawValue]
            ) else { throw StoreError(.unknownCreator, "no creator has id \(change.creatorID)") }
            let account = CreditAccount(balance: row[0], reserved: row[1])
            try StoreArguments.check(change, against: account)
            try Self.writeChange(db, change, now: now)
            return CreditAccount(balance: account.balance + change.amount, reserved: account.reserved)
        }
    }

    /// A grant or adjustment line and the balance it moves.
    static func writeChange(_ db: Database, _ change: CreditChange, now: Date) throws {
        try append(db, [CreditLine(creator: change.creatorID.rawValue, kind: change.amount > 0 ? "grant" : "adjustment",
                                   amount: change.amount, job: nil, actor: change.actor, reason: change.reason)],
                   now: StoredRows.micros(now))
        try db.cachedStatement(sql: "UPDATE creators SET credits = credits + ? WHERE id = ?")
            .execute(arguments: [change.amount, change.creatorID.rawValue])
    }

    /// Walks the creator's chain from its newest line, or from the line before `cursor`.
    public func creditTransactions(_ query: CreditTransactionQuery) async throws -> CreditTransactionPage {
        let limit = StoreArguments.pageLimit(query.limit)
        let creator = query.creatorID.rawValue
        let lines = try readNow { db -> [CreditTransaction] in
            var next: Int64?
            if let cursor = query.cursor {
                // The cursor must be one of this creator's lines.
                next = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT previous_id FROM credit_transactions WHERE id = ? AND creator_id = ?"),
                    arguments: [cursor, creator])
            } else {
                next = try Int64.fetchOne(db.cachedStatement(sql: "SELECT last_line FROM creators WHERE id = ?"), arguments: [creator])
            }
            var lines: [CreditTransaction] = []
            let read = try db.cachedStatement(sql: """
                SELECT \(StoredRows.creditTransactionColumns), previous_id FROM credit_transactions WHERE id = ? AND creator_id = ?
                """)
            while let id = next, lines.count <= limit {
                guard let row = try Row.fetchOne(read, arguments: [id, creator]) else { break }
                lines.append(StoredRows.creditTransaction(row))
                next = row[8]
            }
            return lines
        }
        return CreditTransactionPage(lines: lines, limit: limit)
    }
}

/// Quotas on SQLite (see `QuotaRules`).
extension SQLiteJobStore {
    /// Checks the quotas of `creators` with what this transaction queued counted in.
    static func checkQuotas(_ db: Database, of creators: Set<CreatorID>, defaults: Quotas, now: Date) throws {
        for creator in creators.sorted() {
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT reserved, max_queued, max_daily_credits, CASE WHEN spent_day = ? THEN spent_today ELSE 0 END
                    FROM creators WHERE id = ?
                    """),
                arguments: [QuotaRules.dayNumber(of: now), creator.rawValue]) else { continue }
            let quotas = defaults.overridden(by: Quotas(maxQueuedJobs: row[1], maxDailyCredits: row[2]))
            var waiting: Int?
            if quotas.maxQueuedJobs != nil {
                waiting = try Int.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT (SELECT COALESCE(SUM(ready), 0) FROM fair_queues WHERE creator_id = ?1)
                             + (SELECT count(*) FROM jobs INDEXED BY jobs_retry_due WHERE state = 'waiting' AND creator_id = ?1)
                        """),
                    arguments: [creator.rawValue])
            }
            let daily: Int? = quotas.maxDailyCredits == nil ? nil : (row[3] as Int) + (row[0] as Int)
            try QuotaRules.check(creator, quotas: quotas, waiting: waiting, dailySpend: daily, now: now)
        }
    }

    public func creditsSpentToday(by creator: CreatorID, now: Date) async throws -> Int {
        try readNow { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT CASE WHEN spent_day = ? THEN spent_today ELSE 0 END FROM creators WHERE id = ?"),
                arguments: [QuotaRules.dayNumber(of: now), creator.rawValue]) ?? 0
        }
    }

    public func setQuotas(_ quotas: Quotas, of creator: CreatorID) async throws -> Creator {
        try await write { db in
            try db.cachedStatement(sql: """
                UPDATE creators SET max_queued = ?, max_running = ?, max_daily_credits = ? WHERE id = ?
                """).execute(arguments: [quotas.maxQueuedJobs, quotas.maxRunningJobs, quotas.maxDailyCredits, creator.rawValue])
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(StoredRows.creatorColumns) FROM creators WHERE id = ?"),
                arguments: [creator.rawValue]) else { throw StoreError(.unknownCreator, "no creator has id \(creator)") }
            return StoredRows.creator(row)
        }
    }
}
