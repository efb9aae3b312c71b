import AtelierCore
import AtelierScheduler
import Logging
import PostgresNIO

/// The `fair_queues` table on PostgreSQL: the SQL side of `FairShare`. All functions run inside
/// the caller's transaction.
enum PostgresFairQueue {
    /// Locks the fair-queue rows of these queues in one fixed order, so that two transactions
    /// touching several creators cannot deadlock. Rows that do not exist yet are created by
    /// `markReady`'s upsert, which the unique key serialises.
    static func lock(_ connection: PostgresConnection, _ queues: [QueueKey], logger: Logger) async throws {
        let sorted = queues.sorted { ($0.pool, $0.creator) < ($1.pool, $1.creator) }
        for queue in sorted {
            try await connection.query("""
                SELECT 1 FROM fair_queues WHERE pool = \(queue.pool.rawValue) AND creator_id = \(queue.creator.rawValue)
                FOR UPDATE
                """, logger: logger)
        }
    }

    /// Records that `count` jobs of a creator became ready in a pool. A creator whose queue was
    /// empty re-enters at the pool floor, so idle time earns it no credit.
    static func markReady(_ connection: PostgresConnection, pool: PoolName, creator: CreatorID, count: Int,
                          logger: Logger) async throws {
        guard count > 0 else { return }
        let bounds = try await connection.query("""
            SELECT MIN(pass) FILTER (WHERE ready > 0), MAX(pass) FROM fair_queues WHERE pool = \(pool.rawValue)
            """, logger: logger).collect().first.map(PostgresColumns.init)
        let floor = FairShare.poolFloor(minimumWaitingPass: bounds?.integer(0), maximumPass: bounds?.integer(1))
        // A new row, or an idle one, takes activationPass(previous, floor); a waiting one keeps
        // its place and only counts more jobs.
        try await connection.query("""
            INSERT INTO fair_queues (pool, creator_id, pass, activation, ready)
            VALUES (\(pool.rawValue), \(creator.rawValue), \(FairShare.activationPass(previous: nil, floor: floor)),
                    nextval('fair_queue_activation'), \(Int64(count)))
            ON CONFLICT (pool, creator_id) DO UPDATE SET
                pass = CASE WHEN fair_queues.ready > 0 THEN fair_queues.pass
                            ELSE GREATEST(fair_queues.pass, excluded.pass) END,
                activation = CASE WHEN fair_queues.ready > 0 THEN fair_queues.activation ELSE excluded.activation END,
                ready = fair_queues.ready + excluded.ready
            """, logger: logger)
    }

    /// Records that one ready job of a creator left the queue without being dispatched.
    static func markRemoved(_ connection: PostgresConnection, pool: PoolName, creator: CreatorID,
                            logger: Logger) async throws {
        try await connection.query("""
            UPDATE fair_queues SET ready = ready - 1 WHERE pool = \(pool.rawValue) AND creator_id = \(creator.rawValue)
            """, logger: logger)
    }
}
