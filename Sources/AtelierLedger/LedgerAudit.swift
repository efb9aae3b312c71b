/// Where a full audit reads a log from: the database itself (`--data-dir`) or a server's API.
public protocol LedgerAuditSource: Sendable {
    /// Entries `from ..< from + count` in leaf order, each with the index the source claims.
    func leaves(from: Int64, count: Int) async throws -> [(index: Int64, entry: [UInt8])]
    /// The stored hashes with storage indexes in `from ..< from + count`, or nil when the source
    /// does not expose them (then only entries and checkpoints are checked).
    func storedHashes(from: Int64, count: Int) async throws -> [Int64: MerkleHash]?
    /// Signed checkpoint notes with tree size ≥ `from`, smallest first, with the size the
    /// source files each under.
    func checkpoints(from: Int64, limit: Int) async throws -> [(treeSize: Int64, note: String)]
    /// The source's consistency proof between two tree sizes.
    func consistencyProof(from: Int64, to: Int64) async throws -> [[UInt8]]
}

/// What a clean audit saw.
public struct LedgerAuditReport: Sendable, Hashable {
    public var entries: Int64
    public var checkpoints: Int
    public var latest: Checkpoint?
}

/// A full audit of a log: every leaf recomputed from its stored entry and the tree rebuilt,
/// every stored hash compared, every checkpoint's signature checked and its root compared with
/// the rebuilt tree, and consecutive checkpoints proven consistent with the source's own proofs.
/// The first thing wrong is reported by name (entry index and job, or checkpoint size).
public struct LedgerAudit: Sendable {
    public var verifier: NoteVerifier
    public var origin: String?
    /// A checkpoint the auditor saw earlier (from a witness, a receipt, an old audit): the log
    /// must still contain its tree, or it was rolled back or forked.
    public var pinned: Checkpoint?
    public var pageSize = 10_000

    public init(verifier: NoteVerifier, origin: String? = nil, pinned: Checkpoint? = nil) {
        self.verifier = verifier
        self.origin = origin
        self.pinned = pinned
    }

    /// The job an entry names, for messages (entries are parsed only when something is wrong).
    static func job(in entry: [UInt8]) -> String {
        (try? LedgerEntryReading(bytes: entry))?.job_id ?? "unreadable"
    }

    public func run(_ source: some LedgerAuditSource) async throws -> LedgerAuditReport {
        var frontier = MerkleFrontier()
        var pending: [(treeSize: Int64, note: String)] = try await source.checkpoints(from: 0, limit: pageSize)
        var pendingExhausted = pending.count < pageSize
        var previous: Checkpoint?
        var checked = 0

        /// Checks every checkpoint filed at the current tree size.
        func checkCheckpoints() async throws {
            while true {
                if pending.isEmpty, !pendingExhausted {
                    pending = try await source.checkpoints(from: frontier.size + 1, limit: pageSize)
                    pendingExhausted = pending.count < pageSize
                }
                guard let next = pending.first, next.treeSize <= frontier.size else { return }
                pending.removeFirst()
                let checkpoint: Checkpoint
                do { checkpoint = try Checkpoint.open(next.note, verifier: verifier, origin: origin) } catch {
                    throw LedgerError("checkpoint filed at tree size \(next.treeSize) does not verify: \(error.message)")
                }
                guard checkpoint.size == next.treeSize else {
                    throw LedgerError("checkpoint filed at tree size \(next.treeSize) signs tree size \(checkpoint.size)")
                }
                guard checkpoint.root == frontier.root else {
                    throw LedgerError("checkpoint at tree size \(checkpoint.size) signs root \(checkpoint.root.base64), "
                        + "but the entries give \(frontier.root.base64)")
                }
                if let previous {
                    guard checkpoint.size > previous.size else {
                        throw LedgerError("checkpoint at tree size \(checkpoint.size) does not grow the log past \(previous.size)")
                    }
                    let proof = try await source.consistencyProof(from: previous.size, to: checkpoint.size)
                    do {
                        try MerkleVerifier.verifyConsistency(from: previous.size, to: checkpoint.size, root1: previous.root.bytes,
                                                             root2: checkpoint.root.bytes, proof: proof)
                    } catch {
                        throw LedgerError("checkpoints at tree sizes \(previous.size) and \(checkpoint.size) are not consistent: \(error.message)")
                    }
                }
                if let pinned, pinned.size == checkpoint.size, pinned.root != checkpoint.root {
                    throw LedgerError("the pinned checkpoint at tree size \(pinned.size) has another root: the log was forked")
                }
                previous = checkpoint
                checked += 1
            }
        }

        while true {
            let page = try await source.leaves(from: frontier.size, count: pageSize)
            if page.isEmpty { break }
            let firstStored = StoredHashIndex.count(forTreeSize: frontier.size)
            let lastStored = StoredHashIndex.count(forTreeSize: frontier.size + Int64(page.count))
            let stored = try await source.storedHashes(from: firstStored, count: Int(lastStored - firstStored))
            for (index, entry) in page {
                guard index == frontier.size else {
                    throw LedgerError(index > frontier.size
                        ? "entry \(frontier.size) is missing (the next stored entry is \(index))"
                        : "entry \(index) appears out of order")
                }
                var at = StoredHashIndex.count(forTreeSize: frontier.size)
                for hash in frontier.append(leaf: .leaf(entry)) {
                    if let stored, stored[at] != hash {
                        throw LedgerError(stored[at] == nil
                            ? "stored hash \(at) is missing (at entry \(index), job \(Self.job(in: entry)))"
                            : "entry \(index) (job \(Self.job(in: entry))) does not match the tree's stored hashes: "
                                + "it was changed, or moved from another position")
                    }
                    at += 1
                }
                try await checkCheckpoints()
            }
            if page.count < pageSize { break }
        }
        var leftover = pending.first
        if leftover == nil, !pendingExhausted {
            leftover = try await source.checkpoints(from: frontier.size + 1, limit: 1).first
        }
        if let leftover {
            throw LedgerError("checkpoint at tree size \(leftover.treeSize) is larger than the log's \(frontier.size) entries: "
                + "entries were removed or the log was rolled back")
        }
        if let pinned, pinned.size > 0 {
            guard pinned.size <= frontier.size else {
                throw LedgerError("the pinned checkpoint at tree size \(pinned.size) is larger than the log's "
                    + "\(frontier.size) entries: the log was rolled back")
            }
            // The pinned tree must be a prefix of this one.
            let proof = pinned.size == frontier.size ? [] : try await source.consistencyProof(from: pinned.size, to: frontier.size)
            do {
                try MerkleVerifier.verifyConsistency(from: pinned.size, to: frontier.size, root1: pinned.root.bytes,
                                                     root2: frontier.root.bytes, proof: proof)
            } catch {
                throw LedgerError("the log does not extend the pinned checkpoint at tree size \(pinned.size): \(error.message)")
            }
        }
        return LedgerAuditReport(entries: frontier.size, checkpoints: checked, latest: previous)
    }
}
