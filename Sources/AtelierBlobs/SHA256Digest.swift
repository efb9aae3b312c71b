import Crypto
public import Foundation

/// Lower-case hex SHA-256, the form artifacts, ledger entries and APIs use.
public enum SHA256Hex {
    public static func digest(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
