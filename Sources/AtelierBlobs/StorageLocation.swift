public import AtelierCore

/// Where a server keeps artifact bytes: files in its data directory, or a bucket (and key
/// prefix) of an S3-compatible object store, written `s3://BUCKET[/PREFIX]`.
public enum StorageLocation: Sendable, Hashable {
    case dataDirectory
    case s3(bucket: String, prefix: String)

    /// Parses `file` (or an empty string) and `s3://BUCKET[/PREFIX]`.
    public init(parsing text: String) throws(ValidationError) {
        if text.isEmpty || text == "file" {
            self = .dataDirectory
            return
        }
        guard text.hasPrefix("s3://") else {
            throw ValidationError(field: "storage", message: "must be s3://BUCKET[/PREFIX] or file, not \(text)")
        }
        let rest = text.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        guard Self.isValidBucket(bucket) else {
            throw ValidationError(field: "storage", message: "bucket names are 3 to 63 lower-case letters, digits, '.' or '-', not \(bucket)")
        }
        guard prefix.count <= 512, prefix.split(separator: "/").allSatisfy({ BlobKey.isValidName(String($0)) }) else {
            throw ValidationError(field: "storage", message: "the key prefix may hold letters, digits, '.', '-', '_' and '/', not \(prefix)")
        }
        self = .s3(bucket: bucket, prefix: prefix)
    }

    static func isValidBucket(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last,
              first != UInt8(ascii: "."), first != UInt8(ascii: "-"), last != UInt8(ascii: "."), last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"): true
            default: false
            }
        }
    }
}
