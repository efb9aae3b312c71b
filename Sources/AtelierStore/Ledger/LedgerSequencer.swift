public import AtelierCore
public import AtelierLedger
public import Foundation
import Dispatch

/// How the log grows, apart from any database: turns succeeded jobs into canonical entries,
/// extends the tree's frontier with their leaves, and decides when to sign a checkpoint.
/// Each store engine reads and writes; this decides what is read and written.
public struct LedgerSequencer: Sendable {
    /// The checkpoint origin line, e.g. `atelier.example.com/ledger`.
    public var origin: String
    public var signer: NoteSigner
    /// The version of a model as the log records it (the catalog's, or a checkpoint hash).
    public var modelVersion: @Sendable (ModelID) -> String
    /// Entries per database round of one sequencing pass.
    public var batchSize: Int
    /// Entries one pass may sequence before it returns (so a pass stays a bounded transaction).
    public var passLimit: Int
    /// The least time between two checkpoints.
    public var checkpointInterval: TimeInterval

    public init(origin: String, signer: NoteSigner, modelVersion: @escaping @Sendable (ModelID) -> String,
                batchSize: Int = 2_000, passLimit: Int = 20_000, checkpointInterval: TimeInterval = 1) {
        self.origin = origin
        self.signer = signer
        self.modelVersion = modelVersion
        self.batchSize = batchSize
        self.passLimit = passLimit
        self.checkpointInterval = checkpointInterval
    }

    /// The entry the log records for a succeeded job and the artifacts it made.
    public func entry(for job: Job, artifacts: [Artifact]) -> LedgerEntry {
        var params: CanonicalJSON.Members = [
            "width": .integer(Int64(job.params.width)), "height": .integer(Int64(job.params.height)),
            "seed": .integer(Int64(job.params.seed)), "format": .string(job.params.format.rawValue),
            "frames": .integer(Int64(job.params.frames)), "fps": .integer(Int64(job.params.fps)),
            "steps": .integer(Int64(job.params.steps)),
        ]
        if let negative = job.negativePrompt { params.add("negative_prompt", .string(negative)) }
        if job.params.format.isFilm {
            params.add("scenes", .integer(Int64(job.params.scenes)))
            if let transition = job.params.transition { params.add("transition", .string(transition)) }
            params.add("preview", .integer(job.params.preview ? 1 : 0))
            if let scene = job.params.scene { params.add("scene", .integer(Int64(scene))) }
            if let plan = job.params.plan {
                params.add("plan_sha256", .string(LedgerEntry.sha256Hex(Array(plan.canonicalText.utf8))))
            }
        }
        return LedgerEntry(
            jobID: job.id.rawValue, parentJobID: job.parentID?.rawValue, creatorID: job.creatorID.rawValue,
            kind: job.kind.rawValue, modelID: job.model.rawValue, modelVersion: modelVersion(job.model),
            promptSHA256: LedgerEntry.sha256Hex(Array(job.prompt.utf8)),
            paramsSHA256: LedgerEntry.sha256Hex(CanonicalJSON.object(params).bytes),
            inputs: [],
            outputs: artifacts.sorted { $0.name < $1.name }.map {
                LedgerEntry.Output(name: $0.name, contentType: $0.contentType, sha256: $0.sha256)
            },
            createdAtMicros: StoredRows.micros(job.createdAt),
            completedAtMicros: StoredRows.micros(job.finishedAt ?? job.createdAt)
        )
    }

    /// Appends queued jobs (in queue order) to the tree: the leaves and the stored hashes to write.
    public func append(_ jobs: [(job: Job, artifacts: [Artifact])], to frontier: inout MerkleFrontier)
        -> (leaves: [LedgerLeaf], hashes: [(index: Int64, hash: MerkleHash)])
    {
        // Entries and leaf hashes do not depend on each other: they are most of a pass's work,
        // so they are made on every core; only the tree itself grows in order.
        let made = [(entry: [UInt8], leaf: MerkleHash)?](unsafeUninitializedCapacity: jobs.count) { buffer, count in
            let slots = Slots(base: buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
                let bytes = entry(for: jobs[index].job, artifacts: jobs[index].artifacts).bytes
                // Each iteration writes its own slot, and all finish before the buffer is read.
                (slots.base + index).initialize(to: (bytes, MerkleHash.leaf(bytes)))
            }
            count = jobs.count
        }
        var leaves: [LedgerLeaf] = []
        var hashes: [(index: Int64, hash: MerkleHash)] = []
        leaves.reserveCapacity(jobs.count)
        hashes.reserveCapacity(jobs.count * 2)
        for (index, (job, _)) in jobs.enumerated() {
            let (bytes, leaf) = made[index]!
            leaves.append(LedgerLeaf(index: frontier.size, jobID: job.id, entry: bytes))
            var next = StoredHashIndex.count(forTreeSize: frontier.size)
            for hash in frontier.append(leaf: leaf) {
                hashes.append((next, hash))
                next += 1
            }
        }
        return (leaves, hashes)
    }

    private struct Slots: @unchecked Sendable {
        let base: UnsafeMutablePointer<(entry: [UInt8], leaf: MerkleHash)?>
    }

    /// A signed checkpoint for the frontier's tree when one is due: the tree grew past the last
    /// signed one and the interval since it has passed. Never for a tree smaller than one signed.
    public func checkpoint(for frontier: MerkleFrontier, after last: StoredCheckpoint?, now: Date) throws
        -> StoredCheckpoint?
    {
        if let last {
            guard frontier.size > last.treeSize, now.timeIntervalSince(last.createdAt) >= checkpointInterval else {
                return nil
            }
        } else if frontier.size == 0 {
            return nil
        }
        let note = try signer.sign(Checkpoint(origin: origin, size: frontier.size, root: frontier.root).text)
        return StoredCheckpoint(treeSize: frontier.size, note: note, createdAt: now)
    }

    /// The storage indexes of the frontier's hashes for a tree of `size`.
    public static func frontierIndexes(treeSize size: Int64) -> [Int64] {
        Subtree.decomposing(0, size).map(\.storedIndex)
    }

    /// Rebuilds the frontier from the hashes `frontierIndexes` named.
    public static func frontier(treeSize size: Int64, stored: [Int64: MerkleHash]) throws -> MerkleFrontier {
        let indexes = frontierIndexes(treeSize: size)
        let edge = try indexes.map { index in
            guard let hash = stored[index] else { throw StoreError(.corrupt, "ledger hash \(index) is missing") }
            return hash
        }
        return try MerkleFrontier(size: size, edge: edge)
    }
}
