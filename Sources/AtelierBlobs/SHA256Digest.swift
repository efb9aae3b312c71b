import AtelierCore
import Crypto
public import Foundation

/// Lower-case hex SHA-256, the form artifacts, ledger entries and APIs use.
public enum SHA256Hex {
    public static func digest(_ data: Data) -> String {
        Hex.encode(SHA256.hash(data: data))
    }
}
