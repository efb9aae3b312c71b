/// A worker pool: jobs of one pool are dispatched only to workers of that pool.
public struct PoolName: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard Identifier<PoolName>.isWellFormed(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let image = PoolName(rawValue: "image")!
    public static let video = PoolName(rawValue: "video")!

    /// The pool a kind of job runs on unless the submitter names another.
    public static func `default`(for kind: JobKind) -> PoolName {
        switch kind {
        case .image: .image
        case .video: .video
        }
    }
}

/// The id of a model in the catalog, e.g. `builtin`.
public struct ModelID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard Identifier<ModelID>.isWellFormed(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The procedural renderer that ships with Atelier.
    public static let builtin = ModelID(rawValue: "builtin")!
}
