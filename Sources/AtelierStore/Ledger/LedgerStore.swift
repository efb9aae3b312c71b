public import AtelierCore
public import AtelierLedger
public import Foundation

/// The chain of title's storage, part of the one storage boundary: entries queued when a job
/// succeeds (in that same transaction), sequenced into the Merkle log by one sequencer at a
/// time, the stored hashes that make proofs cheap, and every signed checkpoint.
public protocol LedgerStore: Sendable {
    /// Moves queued entries into the log in queue order and, when a checkpoint is due, signs
    /// the new tree head — all in one transaction, by one node at a time (others return
    /// `.busy` at once rather than wait).
    func sequenceLedger(_ sequencer: LedgerSequencer, now: Date) async throws -> LedgerSequencing
    /// How many entries the log holds (sequenced ones; queued ones are not yet in the tree).
    func ledgerTreeSize() async throws -> Int64
    /// Stored hashes by storage index (see `StoredHashIndex`); missing indexes are absent.
    func ledgerHashes(_ indexes: [Int64]) async throws -> [Int64: MerkleHash]
    /// The log entry of a job, if it has been sequenced.
    func ledgerLeaf(job: JobID) async throws -> LedgerLeaf?
    /// Entries `from ..< from + count` (fewer at the end of the log), in leaf order.
    func ledgerLeaves(from: Int64, count: Int) async throws -> [LedgerLeaf]
    /// Whether a succeeded job's entry still waits for the sequencer.
    func isLedgerEntryQueued(job: JobID) async throws -> Bool
    /// Signed checkpoints with tree size ≥ `from`, smallest first.
    func ledgerCheckpoints(from: Int64, limit: Int) async throws -> [StoredCheckpoint]
    /// The checkpoint of the largest signed tree.
    func latestLedgerCheckpoint() async throws -> StoredCheckpoint?
    /// Records `verifierKey` as the log's key if it has none yet, and returns the log's key:
    /// a node whose key differs must not sign (nodes sharing a database share one key).
    func pinLedgerKey(_ verifierKey: String, now: Date) async throws -> String
}

/// One entry of the log.
public struct LedgerLeaf: Hashable, Sendable {
    public var index: Int64
    public var jobID: JobID
    /// The exact canonical JSON bytes whose leaf hash is in the tree.
    public var entry: [UInt8]

    public init(index: Int64, jobID: JobID, entry: [UInt8]) {
        self.index = index
        self.jobID = jobID
        self.entry = entry
    }
}

/// A signed tree head as the log keeps it.
public struct StoredCheckpoint: Hashable, Sendable {
    public var treeSize: Int64
    /// The signed note (checkpoint body, blank line, signature lines).
    public var note: String
    public var createdAt: Date

    public init(treeSize: Int64, note: String, createdAt: Date) {
        self.treeSize = treeSize
        self.note = note
        self.createdAt = createdAt
    }
}

/// What one sequencing pass did.
public enum LedgerSequencing: Hashable, Sendable {
    /// Another node holds the sequencer; nothing was done here.
    case busy
    case sequenced(appended: Int, treeSize: Int64, signed: StoredCheckpoint?)
}
