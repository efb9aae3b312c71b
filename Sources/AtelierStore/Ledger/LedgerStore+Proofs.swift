public import AtelierLedger

/// Proofs from the stored hashes: each reads O(log n) rows in one query.
extension LedgerStore {
    /// The inclusion proof of `leaf` in the tree of `treeSize`, in RFC 6962 order.
    public func inclusionProof(leaf: Int64, treeSize: Int64) async throws -> [MerkleHash] {
        try await MerkleProofs.hashes(of: MerkleProofs.inclusionRanges(leaf: leaf, treeSize: treeSize)) { indexes in
            try await self.ledgerHashes(indexes)
        }
    }

    /// The consistency proof from the tree of `from` to the tree of `to` (empty when equal).
    public func consistencyProof(from: Int64, to: Int64) async throws -> [MerkleHash] {
        try await MerkleProofs.hashes(of: MerkleProofs.consistencyRanges(from: from, to: to)) { indexes in
            try await self.ledgerHashes(indexes)
        }
    }

    /// The root hash of the tree of `treeSize` (≤ the log's size).
    public func rootHash(treeSize: Int64) async throws -> MerkleHash {
        guard treeSize > 0 else { return .emptyTree }
        return try await MerkleProofs.hashes(of: [LeafRange(0, treeSize)]) { indexes in
            try await self.ledgerHashes(indexes)
        }[0]
    }
}

/// A full audit straight from the store (`atelier ledger verify --data-dir`).
public struct StoreLedgerAuditSource: LedgerAuditSource {
    public let store: any LedgerStore

    public init(store: any LedgerStore) {
        self.store = store
    }

    public func leaves(from: Int64, count: Int) async throws -> [(index: Int64, entry: [UInt8])] {
        try await store.ledgerLeaves(from: from, count: count).map { ($0.index, $0.entry) }
    }

    public func storedHashes(from: Int64, count: Int) async throws -> [Int64: MerkleHash]? {
        try await store.ledgerHashes(Array(from ..< from + Int64(count)))
    }

    public func checkpoints(from: Int64, limit: Int) async throws -> [(treeSize: Int64, note: String)] {
        try await store.ledgerCheckpoints(from: from, limit: limit).map { ($0.treeSize, $0.note) }
    }

    public func consistencyProof(from: Int64, to: Int64) async throws -> [[UInt8]] {
        try await store.consistencyProof(from: from, to: to).map(\.bytes)
    }
}
