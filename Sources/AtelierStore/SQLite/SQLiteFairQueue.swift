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

    /// Charges a creator for a dispatched job.
    static func charge(_ db: Database, pool: PoolName, creator: CreatorID, amount: Int64) throws {
        try db.cachedStatement(sql: """
            UPDATE fair_queues SET pass = pass + ?, ready = ready - 1 WHERE pool = ? AND creator_id = ?
            """).execute(arguments: [amount, pool.rawValue, creator.rawValue])
    }

    /// A waiting creator, in dispatch order.
    struct Candidate {
        var creator: CreatorID
        var weight: Int
    }

    /// Waiting creators of a pool in dispatch order (smallest pass, then earliest activation).
    static func candidates(_ db: Database, pool: PoolName, offset: Int, limit: Int) throws -> [Candidate] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT q.creator_id, c.weight FROM fair_queues q JOIN creators c ON c.id = q.creator_id
                WHERE q.pool = ? AND q.ready > 0
                ORDER BY q.pass, q.activation
                LIMIT ? OFFSET ?
                """),
            arguments: [pool.rawValue, limit, offset]
        ).map { Candidate(creator: CreatorID(rawValue: $0[0])!, weight: $0[1]) }
    }
}
