/// The right edge of the log's tree: the hashes of the complete subtrees that make up
/// `0 ..< size`, largest first. Appending a leaf yields exactly the hashes the log stores next
/// (the leaf's, then each subtree it completes), so a sequencer needs only this to grow the log.
public struct MerkleFrontier: Sendable, Hashable {
    public private(set) var size: Int64
    private var edge: [(level: Int, hash: MerkleHash)]

    public static func == (lhs: MerkleFrontier, rhs: MerkleFrontier) -> Bool {
        lhs.size == rhs.size && lhs.edge.map(\.hash) == rhs.edge.map(\.hash)
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(size)
        for part in edge { hasher.combine(part.hash) }
    }

    public init() {
        size = 0
        edge = []
    }

    /// The frontier of a tree of `size` leaves from the hashes of `Subtree.decomposing(0, size)`.
    public init(size: Int64, edge hashes: [MerkleHash]) throws(LedgerError) {
        let parts = Subtree.decomposing(0, size)
        guard parts.count == hashes.count else {
            throw LedgerError("a tree of \(size) leaves has \(parts.count) edge hashes, not \(hashes.count)")
        }
        self.size = size
        self.edge = zip(parts, hashes).map { ($0.level, $1) }
    }

    /// Adds one leaf; returns the hashes to store, in storage order.
    public mutating func append(leaf: MerkleHash) -> [MerkleHash] {
        var stored = [leaf]
        var carry = (level: 0, hash: leaf)
        while let last = edge.last, last.level == carry.level {
            edge.removeLast()
            carry = (carry.level + 1, MerkleHash.node(last.hash, carry.hash))
            stored.append(carry.hash)
        }
        edge.append(carry)
        size += 1
        return stored
    }

    /// The tree head: RFC 6962's MTH of all leaves so far.
    public var root: MerkleHash {
        guard var hash = edge.last?.hash else { return .emptyTree }
        for part in edge.dropLast().reversed() {
            hash = MerkleHash.node(part.hash, hash)
        }
        return hash
    }
}
