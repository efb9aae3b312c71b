import AtelierCore
import Crypto
import Foundation

/// API keys: random, shown once, stored only as SHA-256 hashes.
///
/// A key carries 190 bits from the system's secure generator, so a fast hash is the right one
/// (no password stretching needed) and lookup by hash is safe: knowing a hash does not help
/// guess a key, and the table is never scanned with a comparison that could leak timing.
public enum APIKey {
    /// `atl_<role>_<32 base62 characters>`; the role prefix helps people and secret scanners.
    public static func generate(prefix: String) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        var characters: [UInt8] = []
        characters.reserveCapacity(32)
        while characters.count < 32 {
            // Rejection sampling keeps every character uniform (248 = 4 × 62).
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { characters.append(alphabet[Int(byte % 62)]) }
        }
        return "atl_\(prefix)_" + String(decoding: characters, as: UTF8.self)
    }

    /// Lower-case hex SHA-256 of the key, as stored.
    public static func hash(_ key: String) -> String {
        Hex.encode(SHA256.hash(data: Data(key.utf8)))
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}
