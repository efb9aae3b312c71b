import Crypto
import Foundation

/// An Ed25519 key that signs notes, in the C2SP signed-note key format
/// (`PRIVATE+KEY+<name>+<key id hex>+<base64 of 0x01 ‖ seed>`).
public struct NoteSigner: Sendable {
    public let name: String
    public let keyID: UInt32
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init(name: String) throws(LedgerError) {
        try self.init(name: name, key: Curve25519.Signing.PrivateKey())
    }

    init(name: String, key: Curve25519.Signing.PrivateKey) throws(LedgerError) {
        try NoteVerifier.checkName(name)
        self.name = name
        self.key = key
        self.keyID = NoteVerifier.keyID(name: name, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// Reads a key written by `encoded`.
    public init(encoded: String) throws(LedgerError) {
        let parts = encoded.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY",
              let raw = Data(base64Encoded: String(parts[4])), raw.count == 33, raw.first == 0x01,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw.dropFirst())
        else { throw LedgerError("not an Ed25519 signer key (PRIVATE+KEY+name+id+key)") }
        try self.init(name: String(parts[2]), key: key)
        guard String(parts[3]) == NoteVerifier.hex(keyID) else {
            throw LedgerError("the signer key's id \(parts[3]) does not match its key")
        }
    }

    public var encoded: String {
        "PRIVATE+KEY+\(name)+\(NoteVerifier.hex(keyID))+" + Data([0x01] + Array(key.rawRepresentation)).base64EncodedString()
    }

    public var verifier: NoteVerifier {
        NoteVerifier(name: name, keyID: keyID, publicKey: key.publicKey)
    }

    /// `text` (which must end in a newline) followed by a blank line and this key's signature line.
    public func sign(_ text: String) throws(LedgerError) -> String {
        guard text.hasSuffix("\n") else { throw LedgerError("a note's text must end with a newline") }
        let signature: Data
        do { signature = try key.signature(for: Data(text.utf8)) } catch { throw LedgerError("signing failed: \(error)") }
        var blob = withUnsafeBytes(of: keyID.bigEndian) { Array($0) }
        blob.append(contentsOf: signature)
        return text + "\n— \(name) " + Data(blob).base64EncodedString() + "\n"
    }
}

/// The public half of a note key, in C2SP's verifier key format
/// (`<name>+<key id hex>+<base64 of 0x01 ‖ public key>`).
public struct NoteVerifier: Sendable {
    public let name: String
    public let keyID: UInt32
    let publicKey: Curve25519.Signing.PublicKey

    init(name: String, keyID: UInt32, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.keyID = keyID
        self.publicKey = publicKey
    }

    public init(encoded: String) throws(LedgerError) {
        let parts = encoded.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let raw = Data(base64Encoded: String(parts[2])), raw.count == 33, raw.first == 0x01,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw.dropFirst())
        else { throw LedgerError("not an Ed25519 verifier key (name+id+key)") }
        let name = String(parts[0])
        try Self.checkName(name)
        let id = Self.keyID(name: name, publicKey: Array(raw.dropFirst()))
        guard String(parts[1]) == Self.hex(id) else {
            throw LedgerError("the verifier key's id \(parts[1]) does not match its key")
        }
        self.init(name: name, keyID: id, publicKey: key)
    }

    public var encoded: String {
        "\(name)+\(Self.hex(keyID))+" + Data([0x01] + Array(publicKey.rawRepresentation)).base64EncodedString()
    }

    /// Checks that `note` carries a valid signature by this key; returns the signed text.
    public func open(_ note: String) throws(LedgerError) -> String {
        guard let split = note.range(of: "\n\n", options: .backwards) else {
            throw LedgerError("the note has no signature block")
        }
        let text = String(note[..<split.lowerBound]) + "\n"
        let signatures = note[split.upperBound...]
        guard signatures.hasSuffix("\n") else { throw LedgerError("the note's signature block does not end with a newline") }
        for line in signatures.split(separator: "\n") {
            guard line.hasPrefix("— ") else { throw LedgerError("malformed signature line: \(line)") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let blob = Data(base64Encoded: String(fields[1])), blob.count >= 4 else {
                throw LedgerError("malformed signature line: \(line)")
            }
            let id = blob.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard String(fields[0]) == name, id == keyID else { continue }
            guard publicKey.isValidSignature(blob.dropFirst(4), for: Data(text.utf8)) else {
                throw LedgerError("the signature by \(name) does not verify")
            }
            return text
        }
        throw LedgerError("the note is not signed by \(name)+\(Self.hex(keyID))")
    }

    static func keyID(name: String, publicKey: [UInt8]) -> UInt32 {
        var hasher = SHA256()
        hasher.update(data: Array(name.utf8) + [0x0A, 0x01] + publicKey)
        return Array(hasher.finalize()).prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func hex(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func checkName(_ name: String) throws(LedgerError) {
        guard !name.isEmpty, !name.contains("+"),
              !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
        else { throw LedgerError("a key name must be non-empty, without spaces or '+': \(name)") }
    }
}
