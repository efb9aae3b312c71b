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
        try await markReady(connection, [(QueueKey(pool: pool, creator: creator), count)], logger: logger)
    }

    /// Each queue once with how many of `queues` name it, in order of first appearance: the
    /// `arrivals` that `markReady` and `appendMarkReady` take.
    static func arrivals(_ queues: some Sequence<QueueKey>) -> [(QueueKey, Int)] {
        var order: [QueueKey] = []
        var counts: [QueueKey: Int] = [:]
        for queue in queues {
            if counts[queue] == nil { order.append(queue) }
            counts[queue, default: 0] += 1
        }
        return order.map { ($0, counts[$0]!) }
    }

    /// Records ready jobs for several queues in one statement; `arrivals` in the order they
    /// became ready (which breaks ties), each queue once.
    static func markReady(_ connection: PostgresConnection, _ arrivals: [(QueueKey, Int)], logger: Logger) async throws {
        guard arrivals.contains(where: { $0.1 > 0 }) else { return }
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 1024, interpolationCount: 4)
        sql.appendLiteral("WITH ")
        appendMarkReady(arrivals, to: &sql)
        sql.appendLiteral(" SELECT count(*) FROM ready")
        _ = try await connection.query(PostgresQuery(stringInterpolation: sql), logger: logger).collect()
    }

    /// Appends two common table expressions, `floors` and `ready`, that record ready jobs for
    /// several queues in one statement (so `enqueue` can insert its jobs in the same one).
    ///
    /// This is `FairShare` in SQL: a queue that was empty (or is new) takes
    /// `activationPass(previous, poolFloor(minimum waiting pass, maximum pass))`; a waiting one
    /// keeps its pass and place and only counts more jobs. Every floor comes from the statement's
    /// snapshot; that equals computing them one queue at a time, because a queue that becomes
    /// ready joins at or above its pool's floor and so never lowers it. Activations are drawn in
    /// the order the queues are given (first arrival first, as `FairShare` breaks ties); rows are
    /// upserted in (pool, creator) order, the order every multi-row locker here uses, so
    /// concurrent statements cannot deadlock on them.
    static func appendMarkReady(_ counts: [(QueueKey, Int)], to sql: inout PostgresQuery.StringInterpolation) {
        // Empty queues are left out by the SQL (`n > 0`), not here, so that the statement's
        // text never depends on the values.
        sql.appendLiteral("""
            floors AS (
                SELECT pool, COALESCE(MIN(pass) FILTER (WHERE ready > 0), MAX(pass)) AS floor
                FROM fair_queues WHERE pool = ANY(
            """)
        sql.appendInterpolation(Array(Set(counts.map(\.0.pool.rawValue))).sorted())
        sql.appendLiteral("""
            ::text[]) GROUP BY pool
            ), arrivals AS MATERIALIZED (
                SELECT u.pool, u.creator_id, u.n, nextval('fair_queue_activation') AS activation
                FROM UNNEST(
            """)
        sql.appendInterpolation(counts.map(\.0.pool.rawValue))
        sql.appendLiteral("::text[], ")
        sql.appendInterpolation(counts.map(\.0.creator.rawValue))
        sql.appendLiteral("::text[], ")
        sql.appendInterpolation(counts.map { Int64($0.1) })
        sql.appendLiteral("""
            ::bigint[]) WITH ORDINALITY AS u(pool, creator_id, n, position)
                WHERE u.n > 0
                ORDER BY u.position
            ), ready AS (
                INSERT INTO fair_queues (pool, creator_id, pass, activation, ready)
                SELECT a.pool, a.creator_id, GREATEST(0, COALESCE(f.floor, 0)), a.activation, a.n
                FROM arrivals a LEFT JOIN floors f ON f.pool = a.pool
                ORDER BY a.pool, a.creator_id
                ON CONFLICT (pool, creator_id) DO UPDATE SET
                    pass = CASE WHEN fair_queues.ready > 0 THEN fair_queues.pass
                                ELSE GREATEST(fair_queues.pass, excluded.pass) END,
                    activation = CASE WHEN fair_queues.ready > 0 THEN fair_queues.activation ELSE excluded.activation END,
                    ready = fair_queues.ready + excluded.ready
                RETURNING 1
            )
            """)
    }

    /// Records that one ready job of a creator left the queue without being dispatched.
    static func markRemoved(_ connection: PostgresConnection, pool: PoolName, creator: CreatorID,
                            logger: Logger) async throws {
        try await connection.query("""
            UPDATE fair_queues SET ready = ready - 1 WHERE pool = \(pool.rawValue) AND creator_id = \(creator.rawValue)
            """, logger: logger)
    }
}
