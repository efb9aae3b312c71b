public import AtelierCore
public import AtelierLedger
public import Foundation
import GRDB

/// The chain of title on SQLite. SQLite has one writer at a time, so a sequencing pass is
/// simply one write transaction.
extension SQLiteJobStore: LedgerStore {
    public var ledger: any LedgerStore { self }

    public func sequenceLedger(_ sequencer: LedgerSequencer, now: Date) async throws -> LedgerSequencing {
        try await write { db in
            var frontier = try Self.ledgerFrontier(db)
            var appended = 0
            while appended < sequencer.passLimit {
                let pending = try Self.queuedLedgerJobs(db, limit: min(sequencer.batchSize, sequencer.passLimit - appended))
                if pending.isEmpty { break }
                let (leaves, hashes) = sequencer.append(pending, to: &frontier)
                // Bound through SQLite's C API: these run for every entry and hash of the log.
                let insertEntry = try db.cachedStatement(sql: "INSERT INTO ledger_entries (leaf_index, job_id, entry) VALUES (?1, ?2, ?3)")
                for leaf in leaves {
                    let insert = SQLiteRawStatement(insertEntry)
                    insert.bind(1, leaf.index)
                    insert.bind(2, leaf.jobID.rawValue)
                    insert.bind(3, bytes: leaf.entry)
                    try insert.run()
                }
                let insertHash = try db.cachedStatement(sql: "INSERT INTO ledger_hashes (id, hash) VALUES (?1, ?2)")
                for (index, hash) in hashes {
                    let insert = SQLiteRawStatement(insertHash)
                    insert.bind(1, index)
                    insert.bind(2, bytes: hash.bytes)
                    try insert.run()
                }
                try db.cachedStatement(sql: "DELETE FROM ledger_queue WHERE job_id IN (SELECT value FROM json_each(?))")
                    .execute(arguments: [Self.jsonArray(leaves.map(\.jobID.rawValue))])
                appended += leaves.count
            }
            let latest = try Self.latestCheckpoint(db)
            let signed = try sequencer.checkpoint(for: frontier, after: latest, now: now)
            if let signed {
                try db.execute(sql: "INSERT INTO ledger_checkpoints (tree_size, note, created_at) VALUES (?, ?, ?)",
                               arguments: [signed.treeSize, signed.note, StoredRows.micros(signed.createdAt)])
            }
            return .sequenced(appended: appended, treeSize: frontier.size, signed: signed)
        }
    }

    static func ledgerTreeSize(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_entries") ?? 0
    }

    static func ledgerFrontier(_ db: Database) throws -> MerkleFrontier {
        let size = try ledgerTreeSize(db)
        return try LedgerSequencer.frontier(treeSize: size, stored: ledgerHashes(db, LedgerSequencer.frontierIndexes(treeSize: size)))
    }

    /// Queued jobs with their artifacts, oldest job first.
    static func queuedLedgerJobs(_ db: Database, limit: Int) throws -> [(job: Job, artifacts: [Artifact])] {
        let jobColumns = StoredRows.jobColumns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let select = SQLiteRawStatement(try db.cachedStatement(sql: """
            SELECT \(jobColumns.joined(separator: ", ")) FROM ledger_queue q JOIN jobs j ON j.id = q.job_id
            ORDER BY q.job_id LIMIT ?1
            """))
        select.bind(1, limit)
        var jobs: [Job] = []
        while try select.step() { jobs.append(StoredRows.job(select).job) }
        guard !jobs.isEmpty else { return [] }
        let artifactSelect = SQLiteRawStatement(try db.cachedStatement(sql: """
            SELECT \(StoredRows.artifactColumns) FROM artifacts WHERE job_id IN (SELECT value FROM json_each(?1))
            """))
        artifactSelect.bind(1, jsonArray(jobs.map(\.id.rawValue)))
        var artifacts: [JobID: [Artifact]] = [:]
        while try artifactSelect.step() {
            let artifact = StoredRows.artifact(artifactSelect)
            artifacts[artifact.jobID, default: []].append(artifact)
        }
        return jobs.map { ($0, artifacts[$0.id] ?? []) }
    }

    static func ledgerHashes(_ db: Database, _ indexes: [Int64]) throws -> [Int64: MerkleHash] {
        guard !indexes.isEmpty else { return [:] }
        let select = SQLiteRawStatement(try db.cachedStatement(sql: """
            SELECT id, hash FROM ledger_hashes WHERE id IN (SELECT value FROM json_each(?1))
            """))
        select.bind(1, "[" + indexes.map(String.init).joined(separator: ",") + "]")
        var hashes: [Int64: MerkleHash] = [:]
        hashes.reserveCapacity(indexes.count)
        while try select.step() {
            if let id = select.integer(0), let hash = select.blob(1).flatMap(MerkleHash.init) { hashes[id] = hash }
        }
        return hashes
    }

    static func latestCheckpoint(_ db: Database) throws -> StoredCheckpoint? {
        try Row.fetchOne(db, sql: "SELECT tree_size, note, created_at FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1")
            .map { StoredCheckpoint(treeSize: $0[0], note: $0[1], createdAt: StoredRows.date($0[2])) }
    }

    public func ledgerTreeSize() async throws -> Int64 {
        try await database.read { db in try Self.ledgerTreeSize(db) }
    }

    public func ledgerHashes(_ indexes: [Int64]) async throws -> [Int64: MerkleHash] {
        try await database.read { db in try Self.ledgerHashes(db, indexes) }
    }

    public func ledgerLeaf(job: JobID) async throws -> LedgerLeaf? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT leaf_index, job_id, entry FROM ledger_entries WHERE job_id = ?",
                             arguments: [job.rawValue]).map(Self.leaf)
        }
    }

    public func ledgerLeaves(from: Int64, count: Int) async throws -> [LedgerLeaf] {
        try await database.read { db in
            let select = SQLiteRawStatement(try db.cachedStatement(sql: """
                SELECT leaf_index, job_id, entry FROM ledger_entries WHERE leaf_index >= ?1 ORDER BY leaf_index LIMIT ?2
                """))
            select.bind(1, from)
            select.bind(2, max(0, count))
            var leaves: [LedgerLeaf] = []
            leaves.reserveCapacity(max(0, count))
            while try select.step() {
                leaves.append(LedgerLeaf(index: select.integer(0) ?? 0,
                                         jobID: JobID(rawValue: select.text(1) ?? "") ?? JobID(rawValue: "invalid")!,
                                         entry: select.blob(2) ?? []))
            }
            return leaves
        }
    }

    static func leaf(_ row: Row) -> LedgerLeaf {
        let entry: Data = row[2]
        return LedgerLeaf(index: row[0], jobID: JobID(rawValue: row[1]) ?? JobID(rawValue: "invalid")!, entry: Array(entry))
    }

    public func isLedgerEntryQueued(job: JobID) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM ledger_queue WHERE job_id = ?)", arguments: [job.rawValue]) ?? false
        }
    }

    public func ledgerCheckpoints(from: Int64, limit: Int) async throws -> [StoredCheckpoint] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT tree_size, note, created_at FROM ledger_checkpoints WHERE tree_size >= ? ORDER BY tree_size LIMIT ?
                """, arguments: [from, max(0, limit)])
                .map { StoredCheckpoint(treeSize: $0[0], note: $0[1], createdAt: StoredRows.date($0[2])) }
        }
    }

    public func pinLedgerKey(_ verifierKey: String, now: Date) async throws -> String {
        try await write { db in
            try db.execute(sql: "INSERT INTO ledger_key (id, verifier, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
                           arguments: [verifierKey, StoredRows.micros(now)])
            return try String.fetchOne(db, sql: "SELECT verifier FROM ledger_key WHERE id = 1") ?? verifierKey
        }
    }

    public func latestLedgerCheckpoint() async throws -> StoredCheckpoint? {
        try await database.read { db in try Self.latestCheckpoint(db) }
    }
}
