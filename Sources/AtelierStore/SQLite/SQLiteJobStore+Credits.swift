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
        let insert = try db.cachedStatement(sql: """
            INSERT INTO credit_transactions (creator_id, kind, amount, job_id, actor, created_at)
            VALUES (?1, 'reserve', ?2, ?3, ?1, ?4)
            """)
        for job in jobs where job.parentID == nil {
            let line = SQLiteRawStatement(insert)
            line.bind(1, job.creatorID.rawValue)
            line.bind(2, job.cost)
            line.bind(3, job.id.rawValue)
            line.bind(4, now)
            try line.run()
        }
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
        let micros = StoredRows.micros(now)
        let insert = try db.cachedStatement(sql: """
            INSERT INTO credit_transactions (creator_id, kind, amount, job_id, actor, reason, created_at)
            VALUES (?, ?, ?, ?, '\(CreditTransaction.platformActor)', ?, ?)
            """)
        for settlement in settlements {
            for (kind, amount) in [("capture", settlement.charged), ("release", settlement.released)] where amount > 0 {
                let line = SQLiteRawStatement(insert)
                line.bind(1, settlement.creatorID)
                line.bind(2, kind)
                line.bind(3, amount)
                line.bind(4, settlement.jobID)
                line.bind(5, settlement.reason)
                line.bind(6, micros)
                try line.run()
            }
        }
        for total in settlements.totalsByCreator() {
            try db.cachedStatement(sql: "UPDATE creators SET credits = credits - ?, reserved = reserved - ? WHERE id = ?")
                .execute(arguments: [total.charged, total.cost, total.creator])
        }
    }

    public func adjustCredits(_ change: CreditChange, now: Date) async throws -> CreditAccount {
        try await database.write { db in
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
        try db.cachedStatement(sql: """
            INSERT INTO credit_transactions (creator_id, kind, amount, actor, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                change.creatorID.rawValue, change.amount > 0 ? "grant" : "adjustment", change.amount, change.actor,
                change.reason, StoredRows.micros(now),
            ])
        try db.cachedStatement(sql: "UPDATE creators SET credits = credits + ? WHERE id = ?")
            .execute(arguments: [change.amount, change.creatorID.rawValue])
    }

    public func creditTransactions(_ query: CreditTransactionQuery) async throws -> CreditTransactionPage {
        let limit = StoreArguments.pageLimit(query.limit)
        let lines = try readNow { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT \(StoredRows.creditTransactionColumns) FROM credit_transactions
                    WHERE creator_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                    """),
                arguments: [query.creatorID.rawValue, query.cursor ?? Int64.max, limit + 1]
            ).map(StoredRows.creditTransaction)
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
                db.cachedStatement(sql: "SELECT reserved, max_queued, max_daily_credits FROM creators WHERE id = ?"),
                arguments: [creator.rawValue]) else { continue }
            let quotas = defaults.overridden(by: Quotas(maxQueuedJobs: row[1], maxDailyCredits: row[2]))
            var waiting: Int?
            if quotas.maxQueuedJobs != nil {
                waiting = try Int.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT count(*) FROM jobs INDEXED BY jobs_waiting_by_creator
                        WHERE creator_id = ? AND state IN ('queued', 'waiting') AND parent_id IS NULL
                        """),
                    arguments: [creator.rawValue])
            }
            var daily: Int?
            if quotas.maxDailyCredits != nil {
                daily = try captured(db, by: creator, since: QuotaRules.day(of: now).start) + (row[0] as Int)
            }
            try QuotaRules.check(creator, quotas: quotas, waiting: waiting, dailySpend: daily, now: now)
        }
    }

    static func captured(_ db: Database, by creator: CreatorID, since start: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: """
                SELECT COALESCE(SUM(amount), 0) FROM credit_transactions INDEXED BY credit_captures_by_day
                WHERE creator_id = ? AND kind = 'capture' AND created_at >= ?
                """),
            arguments: [creator.rawValue, StoredRows.micros(start)]) ?? 0
    }

    public func creditsCaptured(by creator: CreatorID, since start: Date) async throws -> Int {
        try readNow { db in try Self.captured(db, by: creator, since: start) }
    }

    public func setQuotas(_ quotas: Quotas, of creator: CreatorID) async throws -> Creator {
        try await database.write { db in
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
