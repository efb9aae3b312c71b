import Foundation

/// A log's tree head in the C2SP tlog-checkpoint form: the origin line, the tree size in
/// decimal and the base64 root hash, each ending in a newline. Signed as a note.
public struct Checkpoint: Hashable, Sendable {
    public var origin: String
    public var size: Int64
    public var root: MerkleHash

    public init(origin: String, size: Int64, root: MerkleHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note body that gets signed.
    public var text: String { "\(origin)\n\(size)\n\(root.base64)\n" }

    /// Reads a checkpoint body (extension lines after the root are allowed and ignored).
    public init(text: String) throws(LedgerError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.hasSuffix("\n"), lines.count >= 4, !lines[0].isEmpty,
              let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
              let root = MerkleHash(base64: String(lines[2]))
        else { throw LedgerError("not a checkpoint (origin, tree size and root hash lines)") }
        self.init(origin: String(lines[0]), size: size, root: root)
    }

    /// Checks the signature of a signed checkpoint note and reads its body.
    public static func open(_ note: String, verifier: NoteVerifier, origin: String? = nil) throws(LedgerError)
        -> Checkpoint
    {
        let checkpoint = try Checkpoint(text: try verifier.open(note))
        if let origin, checkpoint.origin != origin {
            throw LedgerError("the checkpoint is for log \"\(checkpoint.origin)\", not \"\(origin)\"")
        }
        return checkpoint
    }
}
