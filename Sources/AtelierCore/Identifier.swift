/// A typed identifier: `Identifier<Job>` and `Identifier<Creator>` cannot be mixed up.
///
/// The raw value is restricted to `[A-Za-z0-9_-]` (1…64 characters) so that an identifier is
/// always safe to use as a path component, an object-key segment or a log field.
public struct Identifier<Entity>: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts only well-formed identifiers; anything else (from a URL, a header) yields `nil`.
    public init?(rawValue: String) {
        guard Self.isWellFormed(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Wraps a freshly generated UUIDv7, which always satisfies the identifier rules.
    public init(_ uuid: UUIDv7) {
        self.rawValue = uuid.description
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    static func isWellFormed(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}

extension Identifier: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "malformed identifier")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public typealias CreatorID = Identifier<Creator>
public typealias JobID = Identifier<Job>
public typealias ArtifactID = Identifier<Artifact>
/// Identifies a worker process or in-process worker slot group; used on leases.
public typealias WorkerID = Identifier<WorkerTag>

/// The phantom entity behind `WorkerID`.
public enum WorkerTag {}
