public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blobs as files under a root directory, laid out `{root}/{creator}/{job}/{name}`.
///
/// Paths are built only from a validated `BlobKey`. Writes go to a temporary file in the same
/// directory, are flushed to disk, then renamed over the target, so a crash never leaves a
/// half-written artifact under its real name.
public struct FileBlobStore: BlobStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    public func put(_ data: Data, at key: BlobKey) async throws -> StoredBlob {
        let directory = root.appendingPathComponent(key.creator.rawValue, isDirectory: true)
            .appendingPathComponent(key.job.rawValue, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(key.name)
        let temporary = directory.appendingPathComponent(".tmp-\(UInt64.random(in: .min ... .max))")
        do {
            try Self.writeDurably(data, to: temporary.path)
            guard rename(temporary.path, target.path) == 0 else { throw Self.posixError("rename") }
            Self.syncDirectory(directory.path)
        } catch {
            unlink(temporary.path)
            throw BlobError(.io, key: key, detail: "\(error)")
        }
        return StoredBlob(key: key, byteCount: data.count, sha256: SHA256Hex.digest(data))
    }

    public func get(_ key: BlobKey) async throws -> Data {
        let path = url(for: key).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw BlobError(.notFound, key: key, detail: "no such object")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BlobError(.io, key: key, detail: "\(error)")
        }
    }

    public func head(_ key: BlobKey) async throws -> Int? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url(for: key).path)
        return (attributes?[.size] as? NSNumber)?.intValue
    }

    public func shutdown() async {}

    public func delete(_ key: BlobKey) async throws {
        let path = url(for: key).path
        if unlink(path) != 0 && errno != ENOENT {
            throw BlobError(.io, key: key, detail: String(cString: strerror(errno)))
        }
    }

    private func url(for key: BlobKey) -> URL {
        root.appendingPathComponent(key.creator.rawValue, isDirectory: true)
            .appendingPathComponent(key.job.rawValue, isDirectory: true)
            .appendingPathComponent(key.name)
    }

    private static func writeDurably(_ data: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw posixError("open") }
        defer { close(descriptor) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw posixError("write")
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw posixError("fsync") }
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    private static func posixError(_ operation: String) -> any Error {
        POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO, userInfo: [NSLocalizedDescriptionKey: operation])
    }
}
