import AtelierLedger
import Foundation

/// The server's secrets on disk: the admin key (unless given in the environment) and the key
/// that signs artifact URLs. Both are created on first start with mode 0600.
enum Secrets {
    /// The admin key from `configured`, else `<dir>/admin.key`, else a new one written there.
    /// `created` tells the caller to show it, once.
    static func adminKey(configured: String?, directory: URL) throws -> (key: String, created: Bool) {
        if let configured, !configured.isEmpty { return (configured, false) }
        let file = directory.appendingPathComponent("admin.key")
        if let existing = try? String(contentsOf: file, encoding: .utf8) {
            let key = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if !key.isEmpty { return (key, false) }
        }
        let key = APIKey.generate(prefix: "admin")
        try writePrivately(Data((key + "\n").utf8), to: file)
        return (key, true)
    }

    /// The configured secret, else 32 random bytes in `<dir>/signing.key`, created when missing.
    static func signingKey(configured: String?, directory: URL) throws -> Data {
        if let configured, !configured.isEmpty { return Data(configured.utf8) }
        let file = directory.appendingPathComponent("signing.key")
        if let existing = try? Data(contentsOf: file), existing.count >= 32 { return existing }
        var generator = SystemRandomNumberGenerator()
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try writePrivately(secret, to: file)
        return secret
    }

    /// The configured ledger signer key, else `<dir>/ledger.key`, else a new Ed25519 key named
    /// `name` written there. A key file for another name is refused rather than silently replaced.
    static func ledgerKey(configured: String?, name: String, directory: URL) throws -> NoteSigner {
        if let configured, !configured.isEmpty { return try NoteSigner(encoded: configured) }
        let file = directory.appendingPathComponent("ledger.key")
        if let existing = try? String(contentsOf: file, encoding: .utf8) {
            let signer = try NoteSigner(encoded: existing)
            guard signer.name == name else {
                throw LedgerError("\(file.path) holds a key named \(signer.name), but the ledger origin is \(name)")
            }
            return signer
        }
        let signer = try NoteSigner(name: name)
        try writePrivately(Data((signer.encoded + "\n").utf8), to: file)
        return signer
    }

    /// Creates the file readable by its owner only, before any secret byte is written.
    private static func writePrivately(_ data: Data, to file: URL) throws {
        let path = file.path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
