public import AtelierCore
public import Foundation
import Logging
import PostgresNIO

/// Credits on PostgreSQL: the log lines and the cached account change in the transaction that
/// explains them (see `CreditRules`). A creator's account row is the lock that orders its
/// reservations; every transaction takes account rows **last** (after jobs and fair queues),
/// so credits add no new lock order for dispatch, cancellation and completion to cross.
extension PostgresJobStore {
    /// Holds each creator's share of `jobs` (top-level jobs only: scene jobs draw on their
    /// film) and writes one `reserve` line per job, in one statement. A creator without enough
    /// available credit fails the batch with `insufficientCredits` (the caller's transaction
    /// rolls back everything it queued).
    /// Returns, per creator that reserved, its account as the quotas need it (so checking them
    /// costs no further round trip).
    @discardableResult
    static func reserve(_ connection: PostgresConnection, for jobs: [NewJob], now: Int64, logger: Logger) async throws
        -> [String: AccountStanding]
    {
        let values = ReserveValues(jobs, now: now)
        guard !values.jobs.isEmpty else { return [:] }
        var held: [String: AccountStanding] = [:]
        for row in try await connection.rows(ReserveStatement(values: values), logger: logger) {
            let columns = PostgresColumns(row)
            guard let id = columns.text(0) else { continue }
            held[id] = AccountStanding(row: columns, from: 1)
        }
        guard let short = values.creators.indices.first(where: { held[values.creators[$0]] == nil }) else { return held }
        let available = try await connection.query(
            "SELECT credits - reserved FROM creators WHERE id = \(values.creators[short])", logger: logger
        ).collect().first.flatMap { PostgresColumns($0).integer(0) } ?? 0
        throw StoreError.insufficientCredits(CreatorID(rawValue: values.creators[short])!, available: Int(available),
                                             required: Int(values.amounts[short]))
    }

    /// Settles the reservation of every job of `ids` that has ended and still holds one.
    static func settleCredits(_ connection: PostgresConnection, jobs ids: [String], now: Date, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        let rows = try await connection.query("""
            UPDATE jobs SET charged = \(unescaped: CreditRules.chargeSQL(.postgres))
            WHERE id = ANY(\(Array(Set(ids)))) AND parent_id IS NULL AND charged IS NULL
              AND state IN ('succeeded', 'failed', 'canceled')
            RETURNING creator_id, id, cost, charged, state
            """, logger: logger).collect()
        let settlements = rows.map { row in
            let columns = PostgresColumns(row)
            return CreditSettlement(creatorID: columns.text(0) ?? "", jobID: columns.text(1) ?? "",
                                    cost: Int(columns.integer(2) ?? 0), charged: Int(columns.integer(3) ?? 0),
                                    state: columns.text(4) ?? "")
        }
        try await post(connection, settlements, now: now, logger: logger)
    }

    /// Writes the capture and release lines of `settlements` and moves the accounts with them,
    /// in one statement.
    static func post(_ connection: PostgresConnection, _ settlements: [CreditSettlement], now: Date,
                     logger: Logger) async throws {
        guard !settlements.isEmpty else { return }
        var kinds: [String] = [], creators: [String] = [], jobs: [String] = [], amounts: [Int64] = [], reasons: [String] = []
        for settlement in settlements {
            for (kind, amount) in [("capture", settlement.charged), ("release", settlement.released)] where amount > 0 {
                kinds.append(kind)
                creators.append(settlement.creatorID)
                jobs.append(settlement.jobID)
                amounts.append(Int64(amount))
                reasons.append(settlement.reason)
            }
        }
        let totals = settlements.totalsByCreator()
        _ = try await connection.rows(PostStatement(
            kinds: kinds, creators: creators, jobs: jobs, amounts: amounts, reasons: reasons,
            accounts: totals.map(\.creator), captured: totals.map { Int64($0.charged) }, ended: totals.map { Int64($0.cost) },
            now: StoredRows.micros(now), day: QuotaRules.dayNumber(of: now)), logger: logger)
    }

    public func adjustCredits(_ change: CreditChange, now: Date) async throws -> CreditAccount {
        let logger = self.logger
        return try await transaction { connection in
            guard let row = try await connection.query("""
                SELECT credits, reserved FROM creators WHERE id = \(change.creatorID.rawValue) FOR UPDATE
                """, logger: logger).collect().first
            else { throw StoreError(.unknownCreator, "no creator has id \(change.creatorID)") }
            let columns = PostgresColumns(row)
            let account = CreditAccount(balance: Int(columns.integer(0) ?? 0), reserved: Int(columns.integer(1) ?? 0))
            try StoreArguments.check(change, against: account)
            try await Self.writeChange(connection, change, now: now, logger: logger)
            return CreditAccount(balance: account.balance + change.amount, reserved: account.reserved)
        }
    }

    /// A grant or adjustment line and the balance it moves.
    static func writeChange(_ connection: PostgresConnection, _ change: CreditChange, now: Date, logger: Logger) async throws {
        try await connection.query("""
            WITH line AS (
                INSERT INTO credit_transactions (creator_id, kind, amount, actor, reason, created_at)
                VALUES (\(change.creatorID.rawValue), \(change.amount > 0 ? "grant" : "adjustment"), \(Int64(change.amount)),
                        \(change.actor), \(change.reason), \(StoredRows.micros(now)))
            )
            UPDATE creators SET credits = credits + \(Int64(change.amount)) WHERE id = \(change.creatorID.rawValue)
            """, logger: logger)
    }

    public func creditTransactions(_ query: CreditTransactionQuery) async throws -> CreditTransactionPage {
        let limit = StoreArguments.pageLimit(query.limit)
        let lines = try await self.query("""
            SELECT \(unescaped: StoredRows.creditTransactionColumns) FROM credit_transactions
            WHERE creator_id = \(query.creatorID.rawValue) AND id < \(query.cursor ?? Int64.max)
            ORDER BY id DESC LIMIT \(Int64(limit + 1))
            """).map { StoredRows.creditTransaction(PostgresColumns($0)) }
        return CreditTransactionPage(lines: lines, limit: limit)
    }
}

/// `reserve`'s account update and log lines. Accounts are updated only where the available
/// credit covers the amount; RETURNING names them, so a missing creator is one short of credit.
/// Prepared: it runs with every submission batch.
private struct ReserveStatement: PostgresPreparedQuery {
    var values: ReserveValues

    static let example = ReserveStatement(values: .example)

    var query: PostgresQuery {
        "WITH \(reserving: values) SELECT * FROM reserved"
    }
}

/// A reservation of credits for jobs being queued: each top-level job's `reserve` line (scene
/// jobs draw on their film), and per creator (sorted) the sum its account holds.
struct ReserveValues: Sendable {
    var creators: [String] = []
    var amounts: [Int64] = []
    var jobCreators: [String] = []
    var jobs: [String] = []
    var costs: [Int64] = []
    var now: Int64
    var day: Int64

    init(_ queued: [NewJob], now: Int64) {
        let charged = queued.filter { $0.parentID == nil }
        var asked: [String: Int64] = [:]
        for job in charged { asked[job.creatorID.rawValue, default: 0] += Int64(job.cost) }
        creators = asked.keys.sorted()
        amounts = creators.map { asked[$0]! }
        jobCreators = charged.map(\.creatorID.rawValue)
        jobs = charged.map(\.id.rawValue)
        costs = charged.map { Int64($0.cost) }
        self.now = now
        day = QuotaRules.dayNumber(of: StoredRows.date(now))
    }

    /// Any values: a statement's `example`.
    static let example = ReserveValues([], now: 0)
}

extension PostgresQuery.StringInterpolation {
    /// The CTEs `lines` (the `reserve` lines) and `reserved` (the accounts that had the credit,
    /// returning id, reserved, max_queued, max_daily_credits and today's spend — what
    /// `AccountStanding` reads). With `gate`, SQL over earlier CTEs, the accounts are only
    /// touched once it has been evaluated.
    mutating func appendInterpolation(reserving values: ReserveValues, after gate: StaticString? = nil) {
        appendLiteral("""
            lines AS (
                INSERT INTO credit_transactions (creator_id, kind, amount, job_id, actor, created_at)
                SELECT creator_id, 'reserve', cost, job_id, creator_id,
            """)
        appendInterpolation(values.now)
        appendLiteral("::bigint\n        FROM UNNEST(")
        appendInterpolation(values.jobCreators)
        appendLiteral("::text[], ")
        appendInterpolation(values.jobs)
        appendLiteral("::text[], ")
        appendInterpolation(values.costs)
        appendLiteral("""
            ::bigint[]) AS j(creator_id, job_id, cost)
            ), reserved AS (
                UPDATE creators AS c SET reserved = c.reserved + a.amount
                FROM UNNEST(
            """)
        appendInterpolation(values.creators)
        appendLiteral("::text[], ")
        appendInterpolation(values.amounts)
        appendLiteral("""
            ::bigint[]) AS a(creator_id, amount)
                WHERE c.id = a.creator_id AND c.credits - c.reserved >= a.amount
            """)
        if let gate {
            appendLiteral(" AND ")
            appendLiteral(gate.description)
        }
        appendLiteral("""

                RETURNING c.id, c.reserved, c.max_queued, c.max_daily_credits,
                    CASE WHEN c.spent_day =
            """)
        appendInterpolation(values.day)
        appendLiteral("""
            ::bigint THEN c.spent_today ELSE 0 END
            )
            """)
    }
}

/// `post`'s capture and release lines and the account updates they explain. Prepared: it runs
/// with every completion batch.
private struct PostStatement: PostgresPreparedQuery {
    var kinds: [String]
    var creators: [String]
    var jobs: [String]
    var amounts: [Int64]
    var reasons: [String]
    var accounts: [String]
    var captured: [Int64]
    var ended: [Int64]
    var now: Int64
    var day: Int64

    static let example = PostStatement(kinds: [], creators: [], jobs: [], amounts: [], reasons: [], accounts: [],
                                       captured: [], ended: [], now: 0, day: 0)

    var query: PostgresQuery {
        """
        WITH lines AS (
            INSERT INTO credit_transactions (creator_id, kind, amount, job_id, actor, reason, created_at)
            SELECT creator_id, kind, amount, job_id, '\(unescaped: CreditTransaction.platformActor)', reason, \(now)::bigint
            FROM UNNEST(\(kinds)::text[], \(creators)::text[], \(jobs)::text[], \(amounts)::bigint[], \(reasons)::text[])
                AS l(kind, creator_id, job_id, amount, reason)
        )
        UPDATE creators AS c SET \(settlingAccountsOnDay: day)
        FROM UNNEST(\(accounts)::text[], \(captured)::bigint[], \(ended)::bigint[]) AS t(creator_id, captured, ended)
        WHERE c.id = t.creator_id
        """
    }
}

extension PostgresQuery.StringInterpolation {
    /// The SET list that moves account `c` by settlement `t` (its columns `captured` and
    /// `ended`) on day number `day`: the capture leaves the balance and counts towards the
    /// day's spend, the reservation ends.
    mutating func appendInterpolation(settlingAccountsOnDay day: Int64) {
        appendLiteral("credits = c.credits - t.captured, reserved = c.reserved - t.ended, spent_today = CASE WHEN c.spent_day = ")
        appendInterpolation(day)
        appendLiteral("::bigint THEN c.spent_today + t.captured ELSE t.captured END, spent_day = ")
        appendInterpolation(day)
        appendLiteral("::bigint")
    }
}

/// Quotas on PostgreSQL (see `QuotaRules`).
extension PostgresJobStore {
    /// A creator's account as the quotas read it, after this transaction's reservation.
    struct AccountStanding {
        var reserved: Int
        var maxQueued: Int?
        var maxDailyCredits: Int?
        var spentToday: Int

        /// From columns reserved, max_queued, max_daily_credits, spent today, starting at `first`.
        init(row columns: PostgresColumns, from first: Int32) {
            reserved = Int(columns.integer(first) ?? 0)
            maxQueued = columns.integer(first + 1).map { Int($0) }
            maxDailyCredits = columns.integer(first + 2).map { Int($0) }
            spentToday = Int(columns.integer(first + 3) ?? 0)
        }
    }

    /// Checks the quotas of `creators` with what this transaction queued counted in. Called
    /// after the reservation has locked their accounts; `standings` are what it returned (a
    /// creator that reserved nothing is read here).
    static func checkQuotas(_ connection: PostgresConnection, of creators: Set<CreatorID>, standings: [String: AccountStanding],
                            defaults: Quotas, now: Date, logger: Logger) async throws {
        var standings = standings
        let missing = creators.map(\.rawValue).filter { standings[$0] == nil }.sorted()
        if !missing.isEmpty {
            let day = QuotaRules.dayNumber(of: now)
            for row in try await connection.query("""
                SELECT id, reserved, max_queued, max_daily_credits, CASE WHEN spent_day = \(day) THEN spent_today ELSE 0 END
                FROM creators WHERE id = ANY(\(missing))
                """, logger: logger).collect() {
                let columns = PostgresColumns(row)
                if let id = columns.text(0) { standings[id] = AccountStanding(row: columns, from: 1) }
            }
        }
        for creator in creators.sorted() {
            guard let standing = standings[creator.rawValue] else { continue }
            let quotas = defaults.overridden(by: Quotas(maxQueuedJobs: standing.maxQueued, maxDailyCredits: standing.maxDailyCredits))
            var waiting: Int?
            if quotas.maxQueuedJobs != nil {
                waiting = try await connection.query("""
                    SELECT (SELECT COALESCE(SUM(ready), 0) FROM fair_queues WHERE creator_id = \(creator.rawValue))::bigint
                         + (SELECT count(*) FROM jobs WHERE state = 'waiting' AND creator_id = \(creator.rawValue))
                    """, logger: logger).collect().first.flatMap { PostgresColumns($0).integer(0) }.map { Int($0) }
            }
            let daily = quotas.maxDailyCredits == nil ? nil : standing.spentToday + standing.reserved
            try QuotaRules.check(creator, quotas: quotas, waiting: waiting, dailySpend: daily, now: now)
        }
    }

    public func creditsSpentToday(by creator: CreatorID, now: Date) async throws -> Int {
        let rows = try await query("""
            SELECT CASE WHEN spent_day = \(QuotaRules.dayNumber(of: now)) THEN spent_today ELSE 0 END
            FROM creators WHERE id = \(creator.rawValue)
            """)
        return Int(rows.first.flatMap { PostgresColumns($0).integer(0) } ?? 0)
    }

    public func setQuotas(_ quotas: Quotas, of creator: CreatorID) async throws -> Creator {
        let rows = try await query("""
            UPDATE creators SET max_queued = \(quotas.maxQueuedJobs.map { Int64($0) }),
                max_running = \(quotas.maxRunningJobs.map { Int64($0) }),
                max_daily_credits = \(quotas.maxDailyCredits.map { Int64($0) })
            WHERE id = \(creator.rawValue)
            RETURNING \(unescaped: StoredRows.creatorColumns)
            """)
        guard let row = rows.first else { throw StoreError(.unknownCreator, "no creator has id \(creator)") }
        return StoredRows.creator(PostgresColumns(row))
    }
}
