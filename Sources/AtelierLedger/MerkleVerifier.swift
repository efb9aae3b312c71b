/// Checks inclusion and consistency proofs without trusting whoever made them
/// (RFC 9162 §2.1.3.2 and §2.1.4.2). Proof elements are taken as raw bytes, since a
/// verifier's input is untrusted: a wrong length simply fails to reproduce the root.
public enum MerkleVerifier {
    /// The root that `proof` implies for `leafHash` at `leafIndex` in a tree of `treeSize`.
    public static func rootFromInclusion(leafIndex: Int64, treeSize: Int64, leafHash: [UInt8], proof: [[UInt8]])
        throws(LedgerError) -> [UInt8]
    {
        guard leafIndex >= 0, leafIndex < treeSize else {
            throw LedgerError("leaf index \(leafIndex) is outside a tree of \(treeSize) leaves")
        }
        var fn = leafIndex
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw LedgerError("the inclusion proof is longer than the tree is deep") }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r).bytes
                while fn & 1 == 0, fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = MerkleHash.node(r, p).bytes
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw LedgerError("the inclusion proof is shorter than the tree is deep") }
        return r
    }

    public static func verifyInclusion(leafIndex: Int64, treeSize: Int64, leafHash: [UInt8], proof: [[UInt8]],
                                       root: [UInt8]) throws(LedgerError)
    {
        guard leafHash.count == MerkleHash.byteCount else { throw LedgerError("the leaf hash is not 32 bytes") }
        let computed = try rootFromInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, proof: proof)
        guard computed == root else {
            throw LedgerError("the inclusion proof does not lead to the root hash of tree size \(treeSize)")
        }
    }

    public static func verifyConsistency(from size1: Int64, to size2: Int64, root1: [UInt8], root2: [UInt8],
                                         proof: [[UInt8]]) throws(LedgerError)
    {
        guard size1 <= size2 else { throw LedgerError("tree size \(size1) is larger than tree size \(size2)") }
        guard size1 > 0 else { throw LedgerError("a consistency proof from the empty tree proves nothing") }
        if size1 == size2 {
            guard proof.isEmpty else { throw LedgerError("equal tree sizes need an empty consistency proof") }
            guard root1 == root2 else { throw LedgerError("two trees of size \(size1) have different roots") }
            return
        }
        guard !proof.isEmpty else { throw LedgerError("the consistency proof is empty") }
        var path = proof
        if size1 & (size1 - 1) == 0 { path.insert(root1, at: 0) }
        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw LedgerError("the consistency proof is longer than the tree is deep") }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr).bytes
                sr = MerkleHash.node(c, sr).bytes
                while fn & 1 == 0, fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = MerkleHash.node(sr, c).bytes
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw LedgerError("the consistency proof is shorter than the tree is deep") }
        guard fr == root1 else { throw LedgerError("the consistency proof does not lead to the root of size \(size1)") }
        guard sr == root2 else { throw LedgerError("the consistency proof does not lead to the root of size \(size2)") }
    }
}
