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
        let rows = try await connection.query("""
            WITH leased AS (
                UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_fence = lease_fence + 1,
                    started_at = COALESCE(started_at, \(StoredRows.micros(now))), lease_holder = \(request.worker.rawValue),
                    lease_expires_at = \(StoredRows.micros(now.addingTimeInterval(request.leaseDuration)))
                WHERE id = ANY(\(ids)) AND state = 'queued'
                RETURNING \(unescaped: StoredRows.jobColumns)
            ), charged AS (
                UPDATE fair_queues q SET pass = u.pass, ready = q.ready - u.served
                FROM UNNEST(\(creators)::text[], \(passes)::bigint[], \(served)::bigint[]) AS u(creator_id, pass, served)
                WHERE q.pool = \(request.pool.rawValue) AND q.creator_id = u.creator_id
                RETURNING 1
            )
            SELECT * FROM leased
            """, logger: logger).collect()
        var leased: [String: Lease] = [:]
        leased.reserveCapacity(rows.count)
        for row in rows {
            let (job, fence) = StoredRows.job(PostgresColumns(row))
            leased[job.id.rawValue] = Lease(job: job, token: LeaseToken(jobID: job.id, fence: fence))
        }
        // Every planned job is still queued: its creator's row is locked by this transaction, and
        // whoever else changes a queued job (cancel) takes that lock first. (Were one not, the
        // throw rolls the fair-queue charge back with it.)
        guard leased.count == ids.count else {
            throw StoreError(.invalidArgument, "a planned job left the queue during dispatch; the lease was not taken")
        }
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
