public import Foundation

/// The storage boundary for artifact bytes. Engines: the local filesystem and S3-compatible object stores.
public protocol BlobStore: Sendable {
    /// Stores `data` at `key`, replacing any previous object atomically: a reader sees the old
    /// bytes or the new ones, never a mix.
    @discardableResult
    func put(_ data: Data, at key: BlobKey) async throws -> StoredBlob
    /// The object's bytes; `BlobError.notFound` when absent.
    func get(_ key: BlobKey) async throws -> Data
    /// Whether the object exists, and its size.
    func head(_ key: BlobKey) async throws -> Int?
    func delete(_ key: BlobKey) async throws
    /// Releases the store's connections. The store is unusable afterwards.
    func shutdown() async
    /// A URL that fetches the object straight from the store, when the store offers such links
    /// and is configured to hand them out; nil means "serve it through the API".
    func presignedURL(for key: BlobKey, expiresIn seconds: TimeInterval, now: Date) -> String?
}

extension BlobStore {
    public func presignedURL(for key: BlobKey, expiresIn seconds: TimeInterval, now: Date) -> String? { nil }
}

/// What a store recorded about an object it wrote.
public struct StoredBlob: Sendable, Hashable {
    public var key: BlobKey
    public var byteCount: Int
    /// Lower-case hex SHA-256 of the bytes.
    public var sha256: String

    public init(key: BlobKey, byteCount: Int, sha256: String) {
        self.key = key
        self.byteCount = byteCount
        self.sha256 = sha256
    }
}

/// A blob operation that failed.
public struct BlobError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case notFound = "not_found"
        case io = "io"
    }

    public var reason: Reason
    public var key: BlobKey
    public var detail: String

    public init(_ reason: Reason, key: BlobKey, detail: String) {
        self.reason = reason
        self.key = key
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue) \(key): \(detail)" }
}
