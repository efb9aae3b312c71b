import AtelierCore
public import Foundation
import GRDB

extension SQLiteJobStore {
    public func reclaimExpiredLeases(now: Date) async throws -> [ReclaimedLease] {
        let nowMicros = StoredRows.micros(now)
        let (reclaimed, pools) = try await write { db -> ([ReclaimedLease], Set<PoolName>) in
            let expired = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT id, pool, creator_id, attempt, max_attempts, cancel_requested, parent_id FROM jobs
                    WHERE state = 'running' AND lease_expires_at < ?
                    ORDER BY lease_expires_at
                    """),
                arguments: [nowMicros]
            )
            var reclaimed: [ReclaimedLease] = []
            var readyPools: Set<PoolName> = []
            var endedChildrenOf: [String] = []
            for row in expired {
                let id = JobID(rawValue: row[0])!
                let attempt: Int = row[3]
                let maxAttempts: Int = row[4]
                if row[5] as Bool {
                    try Self.finish(db, id, state: "canceled", error: nil, now: now)
                    reclaimed.append(ReclaimedLease(jobID: id, status: .canceled))
                    if let parent: String = row[6] { endedChildrenOf.append(parent) }
                } else if attempt < maxAttempts {
                    try db.cachedStatement(sql: """
                        UPDATE jobs SET state = 'queued', available_at = ?, lease_holder = NULL, lease_expires_at = NULL,
                            error_code = ?, error_message = ?, progress = \(CreditRules.restartProgressSQL)
                        WHERE id = ?
                        """).execute(arguments: [
                            nowMicros, "lease_expired", JobError.leaseExpired(attempts: attempt).message, id.rawValue,
                        ])
                    let pool = PoolName(rawValue: row[1])!
                    try SQLiteFairQueue.markReady(db, pool: pool, creator: CreatorID(rawValue: row[2])!, count: 1)
                    readyPools.insert(pool)
                    reclaimed.append(ReclaimedLease(jobID: id, status: .queued))
                } else {
                    try Self.finish(db, id, state: "failed", error: .leaseExpired(attempts: attempt), now: now)
                    reclaimed.append(ReclaimedLease(jobID: id, status: .failed))
                    if let parent: String = row[6] { endedChildrenOf.append(parent) }
                }
            }
            _ = try Self.settleFamilies(db, parents: endedChildrenOf, now: now)
            return (reclaimed, readyPools)
        }
        for pool in pools { workSignal.ring(pool) }
        return reclaimed
    }

    public func promoteDueRetries(now: Date) async throws -> Int {
        let pools = try await write { db -> [PoolName] in
            let due = try Row.fetchAll(
                db.cachedStatement(sql: """
                    UPDATE jobs SET state = 'queued' WHERE state = 'waiting' AND available_at <= ?
                    RETURNING pool, creator_id
                    """),
                arguments: [StoredRows.micros(now)]
            )
            var counts: [QueueKey: Int] = [:]
            for row in due {
                counts[QueueKey(pool: PoolName(rawValue: row[0])!, creator: CreatorID(rawValue: row[1])!), default: 0] += 1
            }
            // Sorted so that activation order does not depend on hash order.
            for key in counts.keys.sorted(by: { ($0.pool, $0.creator) < ($1.pool, $1.creator) }) {
                try SQLiteFairQueue.markReady(db, pool: key.pool, creator: key.creator, count: counts[key]!)
            }
            return due.map { PoolName(rawValue: $0[0])! }
        }
        for pool in Set(pools) { workSignal.ring(pool) }
        return pools.count
    }
}
