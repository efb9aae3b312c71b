/// Where the log keeps each hash it will ever need for a proof: every leaf hash and every
/// complete, aligned subtree hash, in the order they become known as leaves are appended
/// (the layout of Go's `sumdb/tlog`). Subtree `(level, n)` covers leaves `n·2^level ..<
/// (n+1)·2^level`; any proof or root is then a handful of these, so it reads O(log n) rows.
public enum StoredHashIndex {
    /// The storage index of subtree `(level, n)`.
    public static func of(level: Int, _ n: Int64) -> Int64 {
        // Stored right after the leaf that completes it, and after its own lower levels.
        let lastLeaf = ((n + 1) << Int64(level)) - 1
        return count(forTreeSize: lastLeaf) + Int64(level)
    }

    /// How many hashes a tree of `size` leaves has stored: size + size/2 + size/4 + …
    public static func count(forTreeSize size: Int64) -> Int64 {
        var total: Int64 = 0
        var n = size
        while n > 0 {
            total += n
            n >>= 1
        }
        return total
    }
}

/// A complete, aligned subtree of the log: `index·2^level ..< (index+1)·2^level`.
public struct Subtree: Hashable, Sendable {
    public var level: Int
    public var index: Int64

    public init(level: Int, index: Int64) {
        self.level = level
        self.index = index
    }

    public var storedIndex: Int64 { StoredHashIndex.of(level: level, index) }

    /// The complete subtrees, largest first, whose right-fold is RFC 6962's MTH of the leaf
    /// range `lower ..< upper`. `lower` must be aligned as RFC 6962's recursion leaves it.
    public static func decomposing(_ lower: Int64, _ upper: Int64) -> [Subtree] {
        var parts: [Subtree] = []
        var start = lower
        while start < upper {
            var level = 0
            while start % (Int64(1) << Int64(level + 1)) == 0, start + (Int64(1) << Int64(level + 1)) <= upper {
                level += 1
            }
            parts.append(Subtree(level: level, index: start >> Int64(level)))
            start += Int64(1) << Int64(level)
        }
        return parts
    }
}
