/// A range of leaves, `lower ..< upper`, whose RFC 6962 hash (MTH) is one element of a proof.
public struct LeafRange: Hashable, Sendable {
    public var lower: Int64
    public var upper: Int64

    public init(_ lower: Int64, _ upper: Int64) {
        self.lower = lower
        self.upper = upper
    }
}

/// Which subtree hashes make up an inclusion or consistency proof (RFC 6962 §2.1.1, §2.1.2),
/// apart from reading them: a proof is planned as leaf ranges, the ranges as stored subtrees,
/// and the hashes are fetched in one read of O(log n) rows.
public enum MerkleProofs {
    /// The largest power of two smaller than `n` (n ≥ 2).
    static func split(_ n: Int64) -> Int64 {
        var k: Int64 = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// PATH(m, D[n]) as ranges, in proof order (the leaf's sibling first).
    public static func inclusionRanges(leaf: Int64, treeSize: Int64) throws(LedgerError) -> [LeafRange] {
        guard leaf >= 0, leaf < treeSize else {
            throw LedgerError("leaf \(leaf) is not in a tree of \(treeSize) leaves")
        }
        var topDown: [LeafRange] = []
        var lower: Int64 = 0
        var upper = treeSize
        while upper - lower > 1 {
            let k = split(upper - lower)
            if leaf < lower + k {
                topDown.append(LeafRange(lower + k, upper))
                upper = lower + k
            } else {
                topDown.append(LeafRange(lower, lower + k))
                lower += k
            }
        }
        return topDown.reversed()
    }

    /// PROOF(m, D[n]) as ranges, in proof order. Empty when m == n; m must be at least 1.
    public static func consistencyRanges(from m: Int64, to n: Int64) throws(LedgerError) -> [LeafRange] {
        guard m >= 1, m <= n else {
            throw LedgerError("no consistency proof from a tree of \(m) leaves to one of \(n)")
        }
        var topDown: [LeafRange] = []
        var lower: Int64 = 0
        var upper = n
        var first = m
        var whole = true
        while true {
            if first == upper - lower {
                if !whole { topDown.append(LeafRange(lower, upper)) }
                break
            }
            let k = split(upper - lower)
            if first <= k {
                topDown.append(LeafRange(lower + k, upper))
                upper = lower + k
            } else {
                topDown.append(LeafRange(lower, lower + k))
                lower += k
                first -= k
                whole = false
            }
        }
        return topDown.reversed()
    }

    /// Every stored hash the ranges need, sorted, once each.
    public static func storedIndexes(for ranges: [LeafRange]) -> [Int64] {
        var indexes = Set<Int64>()
        for range in ranges {
            for part in Subtree.decomposing(range.lower, range.upper) { indexes.insert(part.storedIndex) }
        }
        return indexes.sorted()
    }

    /// MTH of a range from stored subtree hashes.
    public static func hash(of range: LeafRange, stored: [Int64: MerkleHash]) throws(LedgerError) -> MerkleHash {
        let parts = Subtree.decomposing(range.lower, range.upper)
        guard !parts.isEmpty else { return .emptyTree }
        var hashes: [MerkleHash] = []
        for part in parts {
            guard let hash = stored[part.storedIndex] else {
                throw LedgerError("stored hash \(part.storedIndex) (level \(part.level), #\(part.index)) is missing")
            }
            hashes.append(hash)
        }
        var hash = hashes[hashes.count - 1]
        for part in hashes.dropLast().reversed() { hash = MerkleHash.node(part, hash) }
        return hash
    }

    /// The hashes of `ranges` from whatever can read stored hashes by index.
    public static func hashes(of ranges: [LeafRange], reading read: ([Int64]) async throws -> [Int64: MerkleHash])
        async throws -> [MerkleHash]
    {
        let stored = try await read(storedIndexes(for: ranges))
        var hashes: [MerkleHash] = []
        for range in ranges { hashes.append(try hash(of: range, stored: stored)) }
        return hashes
    }
}
