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
        // One job, the idle worker's request, is one statement and one round trip.
        if request.limit == 1 {
            return try await statement { connection in try await Self.leaseOne(connection, request, now: now, logger: logger) }
        }
        return try await transaction { connection in
            try await Self.lease(connection, request, now: now, logger: logger)
        }
    }

    /// Plans and records one lease batch, in dispatch order.
    static func lease(_ connection: PostgresConnection, _ request: LeaseRequest, now: Date,
                      logger: Logger) async throws -> [Lease] {
        if request.limit == 1 { return try await leaseOne(connection, request, now: now, logger: logger) }
        var planner = PostgresLeasePlanner(
            connection: connection, logger: logger, pool: request.pool,
            models: request.models.map(\.rawValue).sorted(), limit: request.limit)
        let plan = try await planner.plan()
        guard !plan.jobs.isEmpty else { return [] }
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
        return ids.compactMap { leased[$0] }
    }

    public func complete(_ completions: [Completion], thenLease next: LeaseRequest, now: Date) async throws
        -> (outcomes: [CompletionOutcome], leases: [Lease])
    {
        try Self.checkCompletions(completions)
        let canLease = next.limit > 0 && !next.models.isEmpty
        let logger = self.logger
        return try await transaction { connection in
            let outcomes = completions.isEmpty ? [] : try await Self.complete(connection, completions, now: now, logger: logger)
            let leases = canLease ? try await Self.lease(connection, next, now: now, logger: logger) : []
            return (outcomes, leases)
        }
    }
}

extension PostgresJobStore {
    /// A lease of one job in one statement (`LeaseOneStatement`): the same choice `lease` makes
    /// with a limit of one — the waiting creator with the smallest (pass, activation) that has a
    /// job for these models, skipping creators another dispatcher holds, its highest-priority
    /// oldest job, and `FairShare.charge` added to its pass.
    static func leaseOne(_ connection: PostgresConnection, _ request: LeaseRequest, now: Date,
                         logger: Logger) async throws -> [Lease] {
        let statement = LeaseOneStatement(
            pool: request.pool.rawValue, models: request.models.map(\.rawValue).sorted(), worker: request.worker.rawValue,
            now: StoredRows.micros(now), expiry: StoredRows.micros(now.addingTimeInterval(request.leaseDuration)),
            scale: FairShare.scale)
        let rows = try await connection.rows(statement, logger: logger)
        guard let row = rows.first else { return [] }
        let columns = PostgresColumns(row)
        let planned = columns.integer(Int32(StoredRows.jobColumnCount)) ?? 0
        guard columns.text(0) != nil else {
            // A creator and job were chosen but the job had just been leased by another
            // dispatcher (the snapshot predates its commit): choose again.
            if planned > 0 { throw StaleDispatchPlan() }
            return []
        }
        let (job, fence) = StoredRows.job(columns)
        return [Lease(job: job, token: LeaseToken(jobID: job.id, fence: fence))]
    }
}

/// Chooses, leases and charges one job in one statement. The charge is `FairShare.charge` in
/// SQL (weights and costs are at least 1 by the schema); the fair-queue row is only charged when
/// the job was really leased. Returns one row: the job's columns (NULL when none was leased)
/// followed by how many jobs were chosen (0 or 1).
private struct LeaseOneStatement: PostgresPreparedQuery {
    var pool: String
    var models: [String]
    var worker: String
    var now: Int64
    var expiry: Int64
    var scale: Int64

    static let example = LeaseOneStatement(pool: "", models: [], worker: "", now: 0, expiry: 0, scale: 1)

    var query: PostgresQuery {
        """
        WITH head AS (
            SELECT q.creator_id, cr.weight, h.id, h.cost
            FROM fair_queues q JOIN creators cr ON cr.id = q.creator_id
            CROSS JOIN LATERAL (
                SELECT j.id, j.cost FROM jobs j
                WHERE j.pool = q.pool AND j.creator_id = q.creator_id AND j.state = 'queued'
                  AND j.model = ANY(\(models)::text[])
                ORDER BY j.priority DESC, j.id
                LIMIT 1
            ) h
            WHERE q.pool = \(pool)::text AND q.ready > 0
            ORDER BY q.pass, q.activation
            LIMIT 1
            FOR UPDATE OF q SKIP LOCKED
        ), leased AS (
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_fence = lease_fence + 1,
                started_at = COALESCE(started_at, \(now)::bigint), lease_holder = \(worker)::text,
                lease_expires_at = \(expiry)::bigint
            WHERE id = (SELECT id FROM head) AND \(unescaped: PostgresSchema.jobByID(inState: "queued"))
            RETURNING \(unescaped: StoredRows.jobColumns)
        ), charged AS (
            UPDATE fair_queues q SET pass = q.pass + (h.cost * \(scale)::bigint + h.weight - 1) / h.weight,
                ready = q.ready - 1
            FROM head h
            WHERE q.pool = \(pool)::text AND q.creator_id = h.creator_id AND EXISTS (SELECT 1 FROM leased)
            RETURNING 1
        )
        SELECT l.*, (SELECT count(*) FROM head) FROM (SELECT 1) AS one LEFT JOIN leased l ON true
        """
    }
}

/// A lease plan that counted a job another dispatcher had just taken; the transaction that made
/// it is rolled back and run again with a fresh snapshot.
struct StaleDispatchPlan: Error {}

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
