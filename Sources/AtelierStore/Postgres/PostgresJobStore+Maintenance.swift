import AtelierCore
public import Foundation
import Logging
import PostgresNIO

extension PostgresJobStore {
    /// Any node may run this; `SKIP LOCKED` lets two nodes sweep at once without reclaiming a
    /// lease twice or waiting for each other.
    public func reclaimExpiredLeases(now: Date) async throws -> [ReclaimedLease] {
        let nowMicros = StoredRows.micros(now)
        let logger = self.logger
        let (reclaimed, pools) = try await transaction { connection -> ([ReclaimedLease], Set<PoolName>) in
            let expired = try await connection.query("""
                SELECT id, pool, creator_id, attempt, max_attempts, cancel_requested, parent_id FROM jobs
                WHERE state = 'running' AND lease_expires_at < \(nowMicros)
                ORDER BY lease_expires_at
                FOR UPDATE SKIP LOCKED
                """, logger: logger).collect()
            var reclaimed: [ReclaimedLease] = []
            var readyPools: Set<PoolName> = []
            // Requeued jobs per creator, in expiry order; their fair-queue rows are updated
            // together at the end, in key order like every other writer of several of them.
            var requeued: [QueueKey] = []
            var endedChildrenOf: [String] = []
            for row in expired {
                let columns = PostgresColumns(row)
                guard let id = columns.text(0).flatMap(JobID.init(rawValue:)) else { continue }
                let attempt = Int(columns.integer(3) ?? 0)
                let maxAttempts = Int(columns.integer(4) ?? 0)
                if columns.integer(5) == 1 {
                    try await Self.finish(connection, id, state: "canceled", error: nil, now: now, logger: logger)
                    reclaimed.append(ReclaimedLease(jobID: id, status: .canceled))
                    if let parent = columns.text(6) { endedChildrenOf.append(parent) }
                } else if attempt < maxAttempts {
                    let error = JobError.leaseExpired(attempts: attempt)
                    try await connection.query("""
                        UPDATE jobs SET state = 'queued', available_at = \(nowMicros), lease_holder = NULL,
                            lease_expires_at = NULL, error_code = \(error.code), error_message = \(error.message),
                            progress = \(unescaped: CreditRules.restartProgressSQL)
                        WHERE id = \(id.rawValue)
                        """, logger: logger)
                    let pool = PoolName(rawValue: columns.text(1) ?? "") ?? .image
                    let creator = CreatorID(rawValue: columns.text(2) ?? "") ?? CreatorID(rawValue: "invalid")!
                    requeued.append(QueueKey(pool: pool, creator: creator))
                    readyPools.insert(pool)
                    reclaimed.append(ReclaimedLease(jobID: id, status: .queued))
                } else {
                    try await Self.finish(connection, id, state: "failed", error: .leaseExpired(attempts: attempt),
                                          now: now, logger: logger)
                    reclaimed.append(ReclaimedLease(jobID: id, status: .failed))
                    if let parent = columns.text(6) { endedChildrenOf.append(parent) }
                }
            }
            try await PostgresFairQueue.markReady(connection, PostgresFairQueue.arrivals(requeued), logger: logger)
            _ = try await Self.settleFamilies(connection, parents: endedChildrenOf, now: now, logger: logger)
            try await Self.settleCredits(
                connection, jobs: reclaimed.filter { $0.status != .queued }.map(\.jobID.rawValue) + endedChildrenOf,
                now: now, logger: logger)
            return (reclaimed, readyPools)
        }
        for pool in pools { notifier.announce(pool) }
        return reclaimed
    }

    public func promoteDueRetries(now: Date) async throws -> Int {
        let logger = self.logger
        let pools = try await transaction { connection -> [PoolName] in
            let due = try await connection.query("""
                UPDATE jobs SET state = 'queued'
                WHERE id IN (SELECT id FROM jobs WHERE state = 'waiting' AND available_at <= \(StoredRows.micros(now))
                             FOR UPDATE SKIP LOCKED)
                RETURNING pool, creator_id
                """, logger: logger).collect()
            var queues: [QueueKey] = []
            var pools: [PoolName] = []
            for row in due {
                let columns = PostgresColumns(row)
                guard let pool = columns.text(0).flatMap(PoolName.init(rawValue:)),
                      let creator = columns.text(1).flatMap(CreatorID.init(rawValue:)) else { continue }
                queues.append(QueueKey(pool: pool, creator: creator))
                pools.append(pool)
            }
            // Sorted: activation order independent of the order the rows came back in.
            queues.sort { ($0.pool, $0.creator) < ($1.pool, $1.creator) }
            try await PostgresFairQueue.markReady(connection, PostgresFairQueue.arrivals(queues), logger: logger)
            return pools
        }
        for pool in Set(pools) { notifier.announce(pool) }
        return pools.count
    }
}
