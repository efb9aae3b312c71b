import Crypto
public import Foundation

/// A node of the log's Merkle tree: 32 bytes of SHA-256 (RFC 6962 §2.1, RFC 9162 §2.1.1).
/// Leaves and interior nodes are hashed with different prefixes, so no leaf can pose as a node.
public struct MerkleHash: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    /// A hash of exactly 32 bytes, or nil.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    init(digest: SHA256.Digest) {
        self.bytes = Array(digest)
    }

    /// The hash of an empty tree: SHA-256 of nothing.
    public static let emptyTree = MerkleHash(digest: SHA256.hash(data: [UInt8]()))

    /// SHA-256(0x00 ‖ entry).
    public static func leaf(_ entry: some DataProtocol) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x00] as [UInt8])
        hasher.update(data: entry)
        return MerkleHash(digest: hasher.finalize())
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func node(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        node(left.bytes, right.bytes)
    }

    /// The node rule over raw bytes, for verifiers handed proofs of unchecked lengths.
    static func node(_ left: [UInt8], _ right: [UInt8]) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x01] as [UInt8])
        hasher.update(data: left)
        hasher.update(data: right)
        return MerkleHash(digest: hasher.finalize())
    }

    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(data)
    }

    public var base64: String { Data(bytes).base64EncodedString() }
    public var hex: String { Self.hex(bytes) }

    /// Lower-case hex, without Foundation's formatter (this runs once per entry at volume).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(64)
        digits.withUTF8Buffer { digits in
            for byte in bytes {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
    public var description: String { hex }
}
