import AtelierCore
import AtelierScheduler
import GRDB

/// The `fair_queues` table: the SQL side of `FairShare`. All functions run inside the caller's
/// write transaction.
enum SQLiteFairQueue {
    /// Records that `count` jobs of a creator became ready in a pool. A creator whose queue was
    /// empty re-enters at the pool floor, so idle time earns it no credit.
    static func markReady(_ db: Database, pool: PoolName, creator: CreatorID, count: Int) throws {
        guard count > 0 else { return }
        let current = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT pass, ready FROM fair_queues WHERE pool = ? AND creator_id = ?"),
            arguments: [pool.rawValue, creator.rawValue]
        )
        if let current, (current[1] as Int) > 0 {
            try db.cachedStatement(sql: "UPDATE fair_queues SET ready = ready + ? WHERE pool = ? AND creator_id = ?")
                .execute(arguments: [count, pool.rawValue, creator.rawValue])
            return
        }
        let minimumWaiting = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MIN(pass) FROM fair_queues WHERE pool = ? AND ready > 0"),
            arguments: [pool.rawValue]
        )
        let maximum = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MAX(pass) FROM fair_queues WHERE pool = ?"), arguments: [pool.rawValue]
        )
        let pass = FairShare.activationPass(
            previous: current?[0],
            floor: FairShare.poolFloor(minimumWaitingPass: minimumWaiting, maximumPass: maximum)
        )
        let activation = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT COALESCE(MAX(activation), 0) + 1 FROM fair_queues")
        ) ?? 1
        try db.cachedStatement(sql: """
            INSERT INTO fair_queues (pool, creator_id, pass, activation, ready) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (pool, creator_id) DO UPDATE SET
                pass = excluded.pass, activation = excluded.activation, ready = excluded.ready
            """).execute(arguments: [pool.rawValue, creator.rawValue, pass, activation, count])
    }

    /// Records that one ready job of a creator left the queue without being dispatched.
    static func markRemoved(_ db: Database, pool: PoolName, creator: CreatorID) throws {
        try db.cachedStatement(sql: "UPDATE fair_queues SET ready = ready - 1 WHERE pool = ? AND creator_id = ?")
            .execute(arguments: [pool.rawValue, creator.rawValue])
    }
}
