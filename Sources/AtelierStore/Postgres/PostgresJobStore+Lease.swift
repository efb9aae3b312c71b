import AtelierCore
import AtelierScheduler
public import Foundation
import Logging
import PostgresNIO

/// Handing out work on PostgreSQL: fair-order lease batches.
extension PostgresJobStore {
    public func leaseJobs(_ request: LeaseRequest, now: Date) async throws -> [Lease] {
        guard request.limit > 0, !request.models.isEmpty else { return [] }
        let logger = self.logger
        let maxRunning = defaultQuotas.maxRunningJobs
        // One job, the idle worker's request, is one statement and one round trip.
        let batch = if request.limit == 1 && !Self.planAfterLocking {
            try await statement { connection in
                try await Self.leaseOne(connection, request, now: now, maxRunning: maxRunning, logger: logger)
            }
        } else {
            try await transaction { connection in
                try await Self.lease(connection, request, now: now, maxRunning: maxRunning, logger: logger)
            }
        }
        if batch.heldByAnother { ringSoon(request.pool) }
        return batch.leases
    }

    /// What a lease found: the leases, and whether it came back empty only because another
    /// dispatcher held the creators with work (their fair-queue rows were locked).
    struct LeaseBatch {
        var leases: [Lease]
        var heldByAnother = false
    }

    /// A dispatcher that found every waiting creator held by another one returns empty-handed
    /// and waits for the work signal; nothing else would ring it while that work stays queued
    /// (an idle worker waited up to its whole idle poll). The holder commits within
    /// milliseconds, so the signal is rung shortly after, and the waiter looks again — not
    /// sooner: a waiter that looks again while the holder still holds only takes the holder's
    /// CPU (with 2 ms the no-op throughput benchmark lost ~5 %).
    func ringSoon(_ pool: PoolName) {
        let signal = workSignal
        Task {
            try? await Task.sleep(for: .milliseconds(5))
            signal.ring(pool)
        }
    }

    /// Plans and records one lease batch, in dispatch order.
    static func lease(_ connection: PostgresConnection, _ request: LeaseRequest, now: Date, maxRunning: Int?,
                      logger: Logger) async throws -> LeaseBatch {
        if request.limit == 1 && !planAfterLocking {
            return try await leaseOne(connection, request, now: now, maxRunning: maxRunning, logger: logger)
        }
        let models = request.models.map(\.rawValue).sorted()
        var planner = PostgresLeasePlanner(
            connection: connection, logger: logger, pool: request.pool, models: models, limit: request.limit,
            defaultMaxRunning: maxRunning, readsHeadsAfterLocking: planAfterLocking)
        let plan = try await planner.plan()
        guard !plan.jobs.isEmpty else {
            // Nothing planned: was there work that other dispatchers held?
            let rows = try await connection.query(
                "SELECT \(workWaitingIn: request.pool.rawValue, models: models, maxRunning: maxRunning.map { Int64($0) })",
                logger: logger).collect()
            return LeaseBatch(leases: [], heldByAnother: rows.first.map { PostgresColumns($0).integer(0) == 1 } ?? false)
        }
        let ids = plan.jobs.map(\.jobID)
        let creators = plan.creators.map(\.0.rawValue)
        let passes = plan.creators.map(\.pass)
        let served = plan.creators.map { Int64($0.served) }
        // The jobs and their creators' fair-queue rows (locked by the planner) in one statement.
        let rows = try await connection.rows(LeaseStatement(
            ids: ids, worker: request.worker.rawValue, now: StoredRows.micros(now),
            expiry: StoredRows.micros(now.addingTimeInterval(request.leaseDuration)),
            pool: request.pool.rawValue, creators: creators, passes: passes, served: served), logger: logger)
        var leased: [String: Lease] = [:]
        leased.reserveCapacity(rows.count)
        for row in rows {
            let (job, fence) = StoredRows.job(PostgresColumns(row))
            leased[job.id.rawValue] = Lease(job: job, token: LeaseToken(jobID: job.id, fence: fence))
        }
        // A planned job may have been leased by another dispatcher after the page read's snapshot
        // was taken but before its creator's row lock was (READ COMMITTED re-reads the locked
        // row, not the jobs it joined). Then the plan is stale: roll back, plan again.
        guard leased.count == ids.count else { throw StaleDispatchPlan() }
        return LeaseBatch(leases: ids.compactMap { leased[$0] })
    }
}

extension PostgresJobStore {
    /// A lease of one job in one statement (`LeaseOneStatement`): the same choice `lease` makes
    /// with a limit of one — the waiting creator with the smallest (pass, activation) that has a
    /// job for these models, skipping creators another dispatcher holds, its highest-priority
    /// oldest job, and `FairShare.charge` added to its pass.
    static func leaseOne(_ connection: PostgresConnection, _ request: LeaseRequest, now: Date, maxRunning: Int?,
                         logger: Logger) async throws -> LeaseBatch {
        let statement = LeaseOneStatement(lease: LeaseOneValues(request, now: now, maxRunning: maxRunning))
        let rows = try await connection.rows(statement, logger: logger)
        guard let row = rows.first else { return LeaseBatch(leases: []) }
        let columns = PostgresColumns(row)
        let planned = columns.integer(Int32(StoredRows.jobColumnCount)) ?? 0
        guard columns.text(0) != nil else {
            // A creator and job were chosen but the job had just been leased by another
            // dispatcher (the snapshot predates its commit): choose again.
            if planned > 0 { throw StaleDispatchPlan() }
            return LeaseBatch(leases: [], heldByAnother: columns.integer(Int32(StoredRows.jobColumnCount + 1)) == 1)
        }
        let (job, fence) = StoredRows.job(columns)
        return LeaseBatch(leases: [Lease(job: job, token: LeaseToken(jobID: job.id, fence: fence))])
    }
}

/// The values of a one-job lease, as the statements that make one bind them.
struct LeaseOneValues: Sendable {
    var pool: String
    var models: [String]
    var worker: String
    var now: Int64
    var expiry: Int64
    var scale: Int64
    var maxRunning: Int64?

    init(_ request: LeaseRequest, now: Date, maxRunning: Int?) {
        pool = request.pool.rawValue
        models = request.models.map(\.rawValue).sorted()
        worker = request.worker.rawValue
        self.now = StoredRows.micros(now)
        expiry = StoredRows.micros(now.addingTimeInterval(request.leaseDuration))
        scale = FairShare.scale
        self.maxRunning = maxRunning.map { Int64($0) }
    }

    /// Any values: a statement's `example`.
    static let example = LeaseOneValues(
        LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w")!, models: [.builtin], limit: 1), now: Date(timeIntervalSince1970: 0),
        maxRunning: nil)
}

/// Chooses, leases and charges one job in one statement. The charge is `FairShare.charge` in
/// SQL (weights and costs are at least 1 by the schema); the fair-queue row is only charged when
/// the job was really leased. Returns one row: the job's columns (NULL when none was leased),
/// how many jobs were chosen (0 or 1), and — when none was — whether a creator with work was
/// there to be chosen had another dispatcher not held it.
private struct LeaseOneStatement: PostgresPreparedQuery {
    var lease: LeaseOneValues

    static let example = LeaseOneStatement(lease: .example)

    var query: PostgresQuery {
        """
        WITH \(leaseOne: lease)
        SELECT l.*, (SELECT count(*) FROM head),
            CASE WHEN EXISTS (SELECT 1 FROM head) THEN false
                 ELSE \(workWaitingIn: lease.pool, models: lease.models, maxRunning: lease.maxRunning) END
        FROM (SELECT 1) AS one LEFT JOIN leased l ON true
        """
    }
}

extension PostgresQuery.StringInterpolation {
    /// The CTEs `head` (the creator and job chosen, the creator's fair-queue row locked),
    /// `leased` (the job's update) and `charged` (the creator's new pass) of a one-job lease.
    /// With `gate`, SQL over earlier CTEs, nothing is chosen unless it holds. `completing` is a
    /// running job the same statement completes: its snapshot still shows the job running, so it
    /// is not counted against its creator's running cap.
    mutating func appendInterpolation(leaseOne lease: LeaseOneValues, onlyIf gate: StaticString? = nil, completing: String? = nil) {
        appendLiteral("""
            head AS (
                SELECT q.creator_id, cr.weight, h.id, h.cost
                FROM fair_queues q JOIN creators cr ON cr.id = q.creator_id
                CROSS JOIN LATERAL (
                    SELECT j.id, j.cost FROM jobs j
                    WHERE j.pool = q.pool AND j.creator_id = q.creator_id AND j.state = 'queued'
                      AND j.model = ANY(
            """)
        appendInterpolation(lease.models)
        appendLiteral("""
            ::text[])
                    ORDER BY j.priority DESC, j.id
                    LIMIT 1
                ) h
                WHERE q.pool =
            """)
        appendInterpolation(lease.pool)
        appendLiteral("::text AND q.ready > 0 AND ")
        appendInterpolation(underRunningCap: "q", "cr", lease.maxRunning, excluding: completing)
        if let gate {
            appendLiteral(" AND ")
            appendLiteral(gate.description)
        }
        appendLiteral("""

                ORDER BY q.pass, q.activation
                LIMIT 1
                FOR UPDATE OF q SKIP LOCKED
            ), leased AS (
                UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_fence = lease_fence + 1,
                    started_at = COALESCE(started_at,
            """)
        appendInterpolation(lease.now)
        appendLiteral("::bigint), lease_holder = ")
        appendInterpolation(lease.worker)
        appendLiteral("::text, lease_expires_at = ")
        appendInterpolation(lease.expiry)
        appendLiteral("""
            ::bigint
                WHERE id = (SELECT id FROM head) AND \(PostgresSchema.jobByID(inState: "queued"))
                RETURNING \(StoredRows.jobColumns)
            ), charged AS (
                UPDATE fair_queues q SET pass = q.pass + (h.cost *
            """)
        appendInterpolation(lease.scale)
        appendLiteral("""
            ::bigint + h.weight - 1) / h.weight,
                    ready = q.ready - 1
                FROM head h
                WHERE q.pool =
            """)
        appendInterpolation(lease.pool)
        appendLiteral("""
            ::text AND q.creator_id = h.creator_id AND EXISTS (SELECT 1 FROM leased)
                RETURNING 1
            )
            """)
    }
}

/// A lease plan that counted a job another dispatcher had just taken; the transaction that made
/// it is rolled back and run again with a fresh snapshot.
struct StaleDispatchPlan: Error {}

extension PostgresJobStore {
    /// Set while a dispatch is planned again after a stale plan: the planner then reads each
    /// creator's jobs in a statement after the one that locked the creator, so what it reads is
    /// what it may lease (one more round trip per creator; a single-job lease goes through the
    /// planner too).
    @TaskLocal static var planAfterLocking = false
}

/// Applies a lease plan: the jobs become running under a new fence, and the creators' fair-queue
/// rows take their new passes. Prepared: it runs on every dispatch.
private struct LeaseStatement: PostgresPreparedQuery {
    var ids: [String]
    var worker: String
    var now: Int64
    var expiry: Int64
    var pool: String
    var creators: [String]
    var passes: [Int64]
    var served: [Int64]

    static let example = LeaseStatement(ids: [], worker: "", now: 0, expiry: 0, pool: "", creators: [], passes: [], served: [])

    var query: PostgresQuery {
        """
        WITH leased AS (
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_fence = lease_fence + 1,
                started_at = COALESCE(started_at, \(now)::bigint), lease_holder = \(worker)::text,
                lease_expires_at = \(expiry)::bigint
            WHERE id = ANY(\(ids)::text[]) AND \(unescaped: PostgresSchema.jobByID(inState: "queued"))
            RETURNING \(unescaped: StoredRows.jobColumns)
        ), charged AS (
            UPDATE fair_queues q SET pass = u.pass, ready = q.ready - u.served
            FROM UNNEST(\(creators)::text[], \(passes)::bigint[], \(served)::bigint[]) AS u(creator_id, pass, served)
            WHERE q.pool = \(pool)::text AND q.creator_id = u.creator_id
            RETURNING 1
        )
        SELECT * FROM leased
        """
    }
}

extension PostgresQuery.StringInterpolation {
    /// The creator of fair-queue row `queue` (with its creators row `creator`) runs fewer jobs
    /// than its running cap (its own, else `maxRunning`; none when both are NULL). Job
    /// `excluding`, when given, is not counted (see `leaseOne`'s `completing`).
    mutating func appendInterpolation(underRunningCap queue: StaticString, _ creator: StaticString, _ maxRunning: Int64?,
                                      excluding: String? = nil) {
        appendLiteral("(COALESCE(\(creator).max_running, ")
        appendInterpolation(maxRunning)
        appendLiteral("::bigint) IS NULL OR (SELECT count(*) FROM jobs r WHERE r.creator_id = \(queue).creator_id AND r.state = 'running'")
        if let excluding {
            appendLiteral(" AND r.id <> ")
            appendInterpolation(excluding)
            appendLiteral("::text")
        }
        appendLiteral(") < COALESCE(\(creator).max_running, ")
        appendInterpolation(maxRunning)
        appendLiteral("::bigint))")
    }

    /// `EXISTS (…)`: a creator waits in `pool` with a queued job for one of `models` — what a
    /// lease would choose from, read without taking or skipping any lock. When a lease that
    /// skips locked creators finds nothing but this is true, other dispatchers held the work.
    ///
    /// Each waiting creator's jobs are probed for one match (a LATERAL subquery with LIMIT 1,
    /// which PostgreSQL does not flatten). Written as a plain `EXISTS (SELECT … FROM jobs …)`,
    /// the planner turned it into a semi-join over every queued job of the pool, de-duplicated
    /// by creator: 7.7 ms a call with up to 20,000 queued, a third of the server's time in the
    /// throughput benchmark, where a dispatcher finds every creator held about a hundred times a second.
    mutating func appendInterpolation(workWaitingIn pool: String, models: [String], maxRunning: Int64?) {
        appendLiteral("""
            EXISTS (SELECT 1 FROM fair_queues wq JOIN creators wc ON wc.id = wq.creator_id
                    CROSS JOIN LATERAL (
                        SELECT 1 FROM jobs wj
                        WHERE wj.pool = wq.pool AND wj.creator_id = wq.creator_id AND wj.state = 'queued'
                          AND wj.model = ANY(
            """)
        appendInterpolation(models)
        appendLiteral("""
            ::text[])
                        LIMIT 1
                    ) wj
                    WHERE wq.pool =
            """)
        appendInterpolation(pool)
        appendLiteral("::text AND wq.ready > 0 AND ")
        appendInterpolation(underRunningCap: "wq", "wc", maxRunning)
        appendLiteral(")")
    }
}
