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
        return try await transaction { connection in
            try await Self.lease(connection, request, now: now, logger: logger)
        }
    }

    /// Plans and records one lease batch, in dispatch order.
    static func lease(_ connection: PostgresConnection, _ request: LeaseRequest, now: Date,
                      logger: Logger) async throws -> [Lease] {
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
            WHERE id = ANY(\(ids)::text[]) AND state = 'queued'
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
