public import AtelierCore
public import AtelierLedger
public import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The chain of title on PostgreSQL. Any node may run the sequencer; a transaction-scoped
/// advisory lock makes one of them do it at a time, so the log has one sequence and one signer,
/// and a node that finds the lock taken moves on instead of waiting.
extension PostgresJobStore: LedgerStore {
    public var ledger: any LedgerStore { self }

    static let ledgerLockKey: Int64 = 0x4154_454C_4945_5202  // "ATELIER" + 2

    public func sequenceLedger(_ sequencer: LedgerSequencer, now: Date) async throws -> LedgerSequencing {
        let logger = self.logger
        return try await transaction { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.ledgerLockKey))", logger: logger)
                .collect().first.flatMap { try? $0.decode(Bool.self) } ?? false
            guard locked else { return .busy }
            let size = try await Self.ledgerTreeSize(connection, logger: logger)
            let edge = try await Self.ledgerHashes(connection, LedgerSequencer.frontierIndexes(treeSize: size), logger: logger)
            var frontier = try LedgerSequencer.frontier(treeSize: size, stored: edge)
            var appended = 0
            while appended < sequencer.passLimit {
                let pending = try await Self.queuedLedgerJobs(
                    connection, limit: min(sequencer.batchSize, sequencer.passLimit - appended), logger: logger)
                if pending.isEmpty { break }
                let (leaves, hashes) = sequencer.append(pending, to: &frontier)
                try await connection.query("""
                    INSERT INTO ledger_entries (leaf_index, job_id, entry)
                    SELECT * FROM UNNEST(\(leaves.map(\.index))::bigint[], \(leaves.map(\.jobID.rawValue))::text[],
                                         \(leaves.map { ByteBuffer(bytes: $0.entry) })::bytea[])
                    """, logger: logger)
                try await connection.query("""
                    INSERT INTO ledger_hashes (id, hash)
                    SELECT * FROM UNNEST(\(hashes.map(\.index))::bigint[], \(hashes.map { ByteBuffer(bytes: $0.hash.bytes) })::bytea[])
                    """, logger: logger)
                try await connection.query("""
                    DELETE FROM ledger_queue WHERE job_id = ANY(\(leaves.map(\.jobID.rawValue))::text[])
                    """, logger: logger)
                appended += leaves.count
            }
            let latest = try await Self.latestCheckpoint(connection, logger: logger)
            let signed = try sequencer.checkpoint(for: frontier, after: latest, now: now)
            if let signed {
                try await connection.query("""
                    INSERT INTO ledger_checkpoints (tree_size, note, created_at)
                    VALUES (\(signed.treeSize), \(signed.note), \(StoredRows.micros(signed.createdAt)))
                    """, logger: logger)
            }
            return .sequenced(appended: appended, treeSize: frontier.size, signed: signed)
        }
    }

    static func ledgerTreeSize(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.query("SELECT COALESCE(MAX(leaf_index) + 1, 0)::bigint FROM ledger_entries", logger: logger)
            .collect().first.flatMap { PostgresColumns($0).integer(0) } ?? 0
    }

    static func ledgerHashes(_ connection: PostgresConnection, _ indexes: [Int64], logger: Logger) async throws
        -> [Int64: MerkleHash]
    {
        guard !indexes.isEmpty else { return [:] }
        var hashes: [Int64: MerkleHash] = [:]
        for row in try await connection.query(
            "SELECT id, hash FROM ledger_hashes WHERE id = ANY(\(indexes)::bigint[])", logger: logger).collect()
        {
            let columns = PostgresColumns(row)
            if let id = columns.integer(0), let hash = columns.bytes(1).flatMap(MerkleHash.init) { hashes[id] = hash }
        }
        return hashes
    }

    /// Committed queue rows with their jobs and artifacts, oldest job first.
    static func queuedLedgerJobs(_ connection: PostgresConnection, limit: Int, logger: Logger) async throws
        -> [(job: Job, artifacts: [Artifact])]
    {
        let jobColumns = StoredRows.jobColumns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let jobs = try await connection.query("""
            SELECT \(unescaped: jobColumns.joined(separator: ", ")) FROM ledger_queue q JOIN jobs j ON j.id = q.job_id
            ORDER BY q.job_id LIMIT \(Int64(limit))
            """, logger: logger).collect().map { StoredRows.job(PostgresColumns($0)).job }
        guard !jobs.isEmpty else { return [] }
        let artifacts = Dictionary(grouping: try await connection.query("""
            SELECT \(unescaped: StoredRows.artifactColumns) FROM artifacts WHERE job_id = ANY(\(jobs.map(\.id.rawValue))::text[])
            """, logger: logger).collect().map { StoredRows.artifact(PostgresColumns($0)) }, by: \.jobID)
        return jobs.map { ($0, artifacts[$0.id] ?? []) }
    }

    static func latestCheckpoint(_ connection: PostgresConnection, logger: Logger) async throws -> StoredCheckpoint? {
        try await connection.query(
            "SELECT tree_size, note, created_at FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1", logger: logger)
            .collect().first.map(Self.checkpoint)
    }

    static func checkpoint(_ row: PostgresRow) -> StoredCheckpoint {
        let columns = PostgresColumns(row)
        return StoredCheckpoint(treeSize: columns.integer(0) ?? 0, note: columns.text(1) ?? "",
                                createdAt: StoredRows.date(columns.integer(2) ?? 0))
    }

    static func leaf(_ row: PostgresRow) -> LedgerLeaf {
        let columns = PostgresColumns(row)
        return LedgerLeaf(index: columns.integer(0) ?? 0, jobID: JobID(rawValue: columns.text(1) ?? "") ?? JobID(rawValue: "invalid")!,
                          entry: columns.bytes(2) ?? [])
    }

    public func ledgerTreeSize() async throws -> Int64 {
        let logger = self.logger
        return try await connection { connection in try await Self.ledgerTreeSize(connection, logger: logger) }
    }

    public func ledgerHashes(_ indexes: [Int64]) async throws -> [Int64: MerkleHash] {
        let logger = self.logger
        return try await connection { connection in try await Self.ledgerHashes(connection, indexes, logger: logger) }
    }

    public func ledgerLeaf(job: JobID) async throws -> LedgerLeaf? {
        try await query("SELECT leaf_index, job_id, entry FROM ledger_entries WHERE job_id = \(job.rawValue)")
            .first.map(Self.leaf)
    }

    public func ledgerLeaves(from: Int64, count: Int) async throws -> [LedgerLeaf] {
        try await query("""
            SELECT leaf_index, job_id, entry FROM ledger_entries WHERE leaf_index >= \(from)
            ORDER BY leaf_index LIMIT \(Int64(max(0, count)))
            """).map(Self.leaf)
    }

    public func isLedgerEntryQueued(job: JobID) async throws -> Bool {
        try await !query("SELECT 1 FROM ledger_queue WHERE job_id = \(job.rawValue)").isEmpty
    }

    public func ledgerCheckpoints(from: Int64, limit: Int) async throws -> [StoredCheckpoint] {
        try await query("""
            SELECT tree_size, note, created_at FROM ledger_checkpoints WHERE tree_size >= \(from)
            ORDER BY tree_size LIMIT \(Int64(max(0, limit)))
            """).map(Self.checkpoint)
    }

    public func pinLedgerKey(_ verifierKey: String, now: Date) async throws -> String {
        let logger = self.logger
        return try await transaction { connection in
            try await connection.query("""
                INSERT INTO ledger_key (id, verifier, created_at) VALUES (1, \(verifierKey), \(StoredRows.micros(now)))
                ON CONFLICT (id) DO NOTHING
                """, logger: logger)
            return try await connection.query("SELECT verifier FROM ledger_key WHERE id = 1", logger: logger)
                .collect().first.flatMap { PostgresColumns($0).text(0) } ?? verifierKey
        }
    }

    public func latestLedgerCheckpoint() async throws -> StoredCheckpoint? {
        let logger = self.logger
        return try await connection { connection in try await Self.latestCheckpoint(connection, logger: logger) }
    }
}
