public import AtelierCore

/// Where an artifact lives in a blob store: `{creator}/{job}/{name}`.
///
/// Every segment is checked, so a key can never climb out of its tenant's prefix or name a
/// hidden file, whatever a client sent.
public struct BlobKey: Hashable, Sendable, CustomStringConvertible {
    public let creator: CreatorID
    public let job: JobID
    public let name: String

    public init(creator: CreatorID, job: JobID, name: String) throws(ValidationError) {
        guard Self.isValidName(name) else {
            throw ValidationError(
                field: "name",
                message: "must be 1 to 128 letters, digits, '.', '-' or '_', not starting with '.'"
            )
        }
        self.creator = creator
        self.job = job
        self.name = name
    }

    /// Parses a stored key; `nil` for anything that is not exactly three valid segments.
    public init?(rawValue: String) {
        let parts = rawValue.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let creator = CreatorID(rawValue: String(parts[0])),
              let job = JobID(rawValue: String(parts[1])),
              let key = try? BlobKey(creator: creator, job: job, name: String(parts[2]))
        else { return nil }
        self = key
    }

    public var rawValue: String { "\(creator)/\(job)/\(name)" }
    public var description: String { rawValue }

    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...128).contains(bytes.count), bytes.first != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}

extension BlobKey {
    /// Where one attempt's output lives. The lease fence in the object name keeps a zombie
    /// attempt from overwriting the bytes of the attempt that completes.
    public static func attemptOutput(creator: CreatorID, job: JobID, fence: Int64, name: String) throws(ValidationError) -> BlobKey {
        guard isValidName(name) else {
            throw ValidationError(
                field: "name",
                message: "must be 1 to 128 letters, digits, '.', '-' or '_', not starting with '.'"
            )
        }
        return try BlobKey(creator: creator, job: job, name: "a\(fence)-\(name)")
    }
}

extension BlobKey {
    /// Where an upload's bytes live: `{creator}/{upload}/source.{ext}`. The upload's id stands in
    /// the job's place; both are generated UUIDv7 identifiers of the same alphabet, so they never
    /// collide, and the tenant prefix is the same.
    public static func upload(creator: CreatorID, upload: UploadID, fileExtension: String) throws(ValidationError) -> BlobKey {
        try BlobKey(creator: creator, job: JobID(rawValue: upload.rawValue)!, name: "source.\(fileExtension)")
    }
}
