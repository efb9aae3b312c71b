public import AtelierCore
import Foundation
import GRDB

/// Films and their scene jobs on SQLite: a parent waits in state `blocked` (never dispatched,
/// never reclaimed) and follows `FamilyRules` in the transaction that ends one of its children.
extension SQLiteJobStore {
    /// Applies `FamilyRules` to each of `parents` still waiting; returns the pools in which a
    /// parent became ready.
    static func settleFamilies(_ db: Database, parents: some Sequence<String>, now: Date) throws -> Set<PoolName> {
        var ready: Set<PoolName> = []
        for parent in Set(parents).sorted() {
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT pool, creator_id FROM jobs WHERE id = ? AND state = 'blocked'"),
                arguments: [parent]
            ) else { continue }
            let children = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT state, scene_index, progress, error_code, error_message FROM jobs WHERE parent_id = ?
                    """),
                arguments: [parent]
            ).map { row in
                FamilyRules.Child(state: row[0], scene: row[1], progress: row[2] ?? 0,
                                  error: (row[3] as String?).map { JobError(code: $0, message: row[4] ?? "") })
            }
            let id = JobID(rawValue: parent)!
            switch FamilyRules.verdict(children) {
            case .release:
                try db.cachedStatement(sql: """
                    UPDATE jobs SET state = 'queued', available_at = ?, progress = ? WHERE id = ?
                    """).execute(arguments: [StoredRows.micros(now), FamilyRules.scenesShare, parent])
                let pool = PoolName(rawValue: row[0])!
                try SQLiteFairQueue.markReady(db, pool: pool, creator: CreatorID(rawValue: row[1])!, count: 1)
                ready.insert(pool)
            case .fail(let error):
                try finish(db, id, state: "failed", error: error, now: now)
                try cancelChildren(db, of: parent, now: now)
            case .cancel:
                try finish(db, id, state: "canceled", error: nil, now: now)
                try cancelChildren(db, of: parent, now: now)
            case .progress(let progress):
                try db.cachedStatement(sql: "UPDATE jobs SET progress = ? WHERE id = ?").execute(arguments: [progress, parent])
            }
        }
        return ready
    }

    /// Cancels a parent's unfinished children: queued ones at once, running ones at their next heartbeat.
    static func cancelChildren(_ db: Database, of parent: String, now: Date) throws {
        let open = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT id, state, pool, creator_id FROM jobs
                WHERE parent_id = ? AND state IN ('queued', 'waiting', 'running')
                """),
            arguments: [parent]
        )
        for row in open {
            let id = JobID(rawValue: row[0])!
            let state: String = row[1]
            if state == "running" {
                try db.cachedStatement(sql: "UPDATE jobs SET cancel_requested = 1 WHERE id = ?").execute(arguments: [id.rawValue])
                continue
            }
            try finish(db, id, state: "canceled", error: nil, now: now)
            if state == "queued" {
                try SQLiteFairQueue.markRemoved(db, pool: PoolName(rawValue: row[2])!, creator: CreatorID(rawValue: row[3])!)
            }
        }
    }

    /// A parent's progress while it waits: its children's mean (heartbeats move it).
    static func followChildrenProgress(_ db: Database, parent: String) throws {
        try db.cachedStatement(sql: """
            UPDATE jobs SET progress = ?2 * (SELECT AVG(CASE WHEN state = 'succeeded' THEN 1.0 ELSE progress END)
                                              FROM jobs WHERE parent_id = ?1)
            WHERE id = ?1 AND state = 'blocked'
            """).execute(arguments: [parent, FamilyRules.scenesShare])
    }

    public func children(of parent: JobID) async throws -> [Job] {
        try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT \(StoredRows.jobColumns) FROM jobs WHERE parent_id = ? ORDER BY scene_index, id
                    """),
                arguments: [parent.rawValue]
            ).map { StoredRows.job($0).job }
        }
    }
}
