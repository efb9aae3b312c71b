public import AtelierCore
import Foundation
import Logging
import PostgresNIO

/// Films and their scene jobs on PostgreSQL: a parent waits in state `blocked` (never
/// dispatched, never reclaimed) and follows `FamilyRules` in the transaction that ends one of
/// its children. The parent's row is locked before its children are read, so two children
/// ending at once on two nodes are judged one after the other: the second sees the first.
extension PostgresJobStore {
    /// Applies `FamilyRules` to each of `parents` still waiting; returns the pools in which a
    /// parent became ready.
    static func settleFamilies(_ connection: PostgresConnection, parents: some Sequence<String>, now: Date,
                               logger: Logger) async throws -> Set<PoolName> {
        var ready: Set<PoolName> = []
        for parent in Set(parents).sorted() {
            guard let row = try await connection.query("""
                SELECT pool, creator_id FROM jobs
                WHERE id = \(parent) AND \(unescaped: PostgresSchema.jobByID(inState: "blocked"))
                FOR UPDATE
                """, logger: logger).collect().first else { continue }
            let columns = PostgresColumns(row)
            let children = try await connection.query("""
                SELECT state, scene_index, progress, error_code, error_message FROM jobs WHERE parent_id = \(parent)
                """, logger: logger).collect().map { row in
                    let child = PostgresColumns(row)
                    return FamilyRules.Child(
                        state: child.text(0) ?? "", scene: child.integer(1).map { Int($0) }, progress: child.real(2) ?? 0,
                        error: child.text(3).map { JobError(code: $0, message: child.text(4) ?? "") })
                }
            let id = JobID(rawValue: parent)!
            switch FamilyRules.verdict(children) {
            case .release:
                try await connection.query("""
                    UPDATE jobs SET state = 'queued', available_at = \(StoredRows.micros(now)), progress = \(FamilyRules.scenesShare)
                    WHERE id = \(parent)
                    """, logger: logger)
                let pool = PoolName(rawValue: columns.text(0) ?? "") ?? .video
                let creator = CreatorID(rawValue: columns.text(1) ?? "") ?? CreatorID(rawValue: "invalid")!
                try await PostgresFairQueue.markReady(connection, pool: pool, creator: creator, count: 1, logger: logger)
                ready.insert(pool)
            case .fail(let error):
                try await finish(connection, id, state: "failed", error: error, now: now, logger: logger)
                try await cancelChildren(connection, of: parent, now: now, logger: logger)
            case .cancel:
                try await finish(connection, id, state: "canceled", error: nil, now: now, logger: logger)
                try await cancelChildren(connection, of: parent, now: now, logger: logger)
            case .progress(let progress):
                try await connection.query("UPDATE jobs SET progress = \(progress) WHERE id = \(parent)", logger: logger)
            }
        }
        return ready
    }

    /// Cancels a parent's unfinished children: queued ones at once, running ones at their next heartbeat.
    static func cancelChildren(_ connection: PostgresConnection, of parent: String, now: Date, logger: Logger) async throws {
        let open = try await connection.query("""
            SELECT id, state, pool, creator_id FROM jobs
            WHERE parent_id = \(parent) AND state IN ('queued', 'waiting', 'running')
            ORDER BY id
            FOR UPDATE
            """, logger: logger).collect()
        for row in open {
            let columns = PostgresColumns(row)
            guard let id = columns.text(0).flatMap(JobID.init(rawValue:)) else { continue }
            let state = columns.text(1) ?? ""
            if state == "running" {
                try await connection.query("UPDATE jobs SET cancel_requested = 1 WHERE id = \(id.rawValue)", logger: logger)
                continue
            }
            try await finish(connection, id, state: "canceled", error: nil, now: now, logger: logger)
            if state == "queued" {
                try await PostgresFairQueue.markRemoved(
                    connection, pool: PoolName(rawValue: columns.text(2) ?? "") ?? .video,
                    creator: CreatorID(rawValue: columns.text(3) ?? "") ?? CreatorID(rawValue: "invalid")!, logger: logger)
            }
        }
    }

    public func children(of parent: JobID) async throws -> [Job] {
        try await query("""
            SELECT \(unescaped: StoredRows.jobColumns) FROM jobs WHERE parent_id = \(parent.rawValue) ORDER BY scene_index, id
            """).map { StoredRows.job(PostgresColumns($0)).job }
    }
}
