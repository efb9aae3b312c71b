@testable import AtelierLedger
import Foundation
import Testing

/// The log's own proofs, checked exhaustively against the verifier and against RFC 6962's
/// recursive definitions computed from the leaves directly.
@Suite struct MerkleProofTests {
    /// Every tree size below 70.
    static let maxSize: Int64 = 69

    /// An in-memory log: every stored hash, in storage order, as the store engines keep them.
    struct MemoryLog {
        var stored: [MerkleHash] = []
        var frontier = MerkleFrontier()
        var leaves: [[UInt8]] = []

        mutating func append(_ entry: [UInt8]) {
            leaves.append(entry)
            stored.append(contentsOf: frontier.append(leaf: .leaf(entry)))
        }

        func read(_ indexes: [Int64]) -> [Int64: MerkleHash] {
            Dictionary(uniqueKeysWithValues: indexes.map { ($0, stored[Int($0)]) })
        }

        func hashes(_ ranges: [LeafRange]) throws -> [[UInt8]] {
            let stored = read(MerkleProofs.storedIndexes(for: ranges))
            return try ranges.map { try MerkleProofs.hash(of: $0, stored: stored).bytes }
        }
    }

    /// RFC 6962 §2.1's MTH, straight from the definition.
    static func mth(_ leaves: ArraySlice<[UInt8]>) -> MerkleHash {
        if leaves.isEmpty { return .emptyTree }
        if leaves.count == 1 { return .leaf(leaves.first!) }
        let k = Int(MerkleProofs.split(Int64(leaves.count)))
        return .node(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
    }

    static let log: MemoryLog = {
        var log = MemoryLog()
        for i in 0 ..< Int(maxSize) + 1 { log.append(Array("entry \(i)".utf8)) }
        return log
    }()

    @Test func storedHashesAreWhereTheIndexSaysAndRootsMatchTheDefinition() throws {
        let log = Self.log
        #expect(Int64(log.stored.count) == StoredHashIndex.count(forTreeSize: Self.maxSize + 1))
        for size in 1 ... Self.maxSize {
            let leaves = log.leaves.prefix(Int(size))
            let root = try log.hashes([LeafRange(0, size)])[0]
            #expect(root == Self.mth(leaves[...]).bytes, "root of size \(size)")
            for part in Subtree.decomposing(0, size) {
                let first = Int(part.index << Int64(part.level))
                let covered = log.leaves[first ..< first + (1 << part.level)]
                #expect(log.stored[Int(part.storedIndex)] == Self.mth(covered), "subtree \(part) in size \(size)")
            }
        }
    }

    @Test func everyInclusionProofBelowSeventyVerifies() throws {
        let log = Self.log
        for size in 1 ... Self.maxSize {
            let root = Self.mth(log.leaves.prefix(Int(size))[...]).bytes
            for leaf in 0 ..< size {
                let proof = try log.hashes(MerkleProofs.inclusionRanges(leaf: leaf, treeSize: size))
                let leafHash = MerkleHash.leaf(log.leaves[Int(leaf)]).bytes
                try MerkleVerifier.verifyInclusion(leafIndex: leaf, treeSize: size, leafHash: leafHash, proof: proof,
                                                   root: root)
                // The same proof must not verify for a neighbouring leaf or a different size.
                if size > 1 {
                    let other = (leaf + 1) % size
                    #expect(throws: LedgerError.self) {
                        try MerkleVerifier.verifyInclusion(leafIndex: other, treeSize: size, leafHash: leafHash,
                                                           proof: proof, root: root)
                    }
                }
                // Nor for the next tree's root: a proof binds to one tree head.
                let nextRoot = Self.mth(log.leaves.prefix(Int(size) + 1)[...]).bytes
                #expect(throws: LedgerError.self) {
                    try MerkleVerifier.verifyInclusion(leafIndex: leaf, treeSize: size + 1, leafHash: leafHash,
                                                       proof: proof, root: nextRoot)
                }
            }
        }
    }

    @Test func everyConsistencyProofBelowSeventyVerifies() throws {
        let log = Self.log
        let roots = (0 ... Self.maxSize).map { Self.mth(log.leaves.prefix(Int($0))[...]).bytes }
        for size2 in 1 ... Self.maxSize {
            for size1 in 1 ... size2 {
                let proof = try log.hashes(MerkleProofs.consistencyRanges(from: size1, to: size2))
                try MerkleVerifier.verifyConsistency(from: size1, to: size2, root1: roots[Int(size1)],
                                                     root2: roots[Int(size2)], proof: proof)
                if size1 < size2 {
                    // A forked log (another first tree of the same size) is caught.
                    var forked = roots[Int(size1)]
                    forked[0] ^= 1
                    #expect(throws: LedgerError.self) {
                        try MerkleVerifier.verifyConsistency(from: size1, to: size2, root1: forked,
                                                             root2: roots[Int(size2)], proof: proof)
                    }
                }
            }
        }
    }

    @Test func proofsReadLogarithmicallyManyStoredHashes() throws {
        for size: Int64 in [1, 7, 1000, 1 << 20, 1_000_003, 1 << 40] {
            let reads = MerkleProofs.storedIndexes(for: try MerkleProofs.inclusionRanges(leaf: size / 3, treeSize: size))
            let depth = 64 - size.leadingZeroBitCount
            #expect(reads.count <= 2 * depth, "size \(size): \(reads.count) reads")
            let consistency = MerkleProofs.storedIndexes(for: try MerkleProofs.consistencyRanges(from: size / 2 + 1, to: size))
            #expect(consistency.count <= 3 * depth, "size \(size): \(consistency.count) reads")
        }
    }

    @Test func aFrontierRebuiltFromStoredHashesContinuesTheSameLog() throws {
        let log = Self.log
        for size: Int64 in [0, 1, 5, 8, 33, 69] {
            let parts = Subtree.decomposing(0, size)
            var frontier = try MerkleFrontier(size: size, edge: parts.map { log.stored[Int($0.storedIndex)] })
            var stored = Array(log.stored.prefix(Int(StoredHashIndex.count(forTreeSize: size))))
            for leaf in log.leaves[Int(size)...] { stored.append(contentsOf: frontier.append(leaf: .leaf(leaf))) }
            #expect(stored == log.stored)
            #expect(frontier.root == Self.mth(log.leaves[...]))
        }
        #expect(throws: LedgerError.self) { try MerkleFrontier(size: 5, edge: []) }
    }
}
