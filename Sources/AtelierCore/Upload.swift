public import Foundation

public typealias UploadID = Identifier<Upload>

/// A reference image or clip a creator uploaded, with what was read from it.
public struct Upload: Sendable, Hashable, Identifiable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case image, video
    }

    public var id: UploadID
    public var creatorID: CreatorID
    public var kind: Kind
    /// Decided from the bytes (magic numbers and ffprobe), never from a name or a header.
    public var contentType: String
    public var byteCount: Int
    /// Lower-case hex SHA-256 of the content.
    public var sha256: String
    public var width: Int
    public var height: Int
    /// Clips only.
    public var durationS: Double?
    public var features: ReferenceFeatures
    public var storageKey: String
    public var createdAt: Date

    public init(id: UploadID, creatorID: CreatorID, kind: Kind, contentType: String, byteCount: Int, sha256: String,
                width: Int, height: Int, durationS: Double?, features: ReferenceFeatures, storageKey: String, createdAt: Date) {
        self.id = id
        self.creatorID = creatorID
        self.kind = kind
        self.contentType = contentType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.width = width
        self.height = height
        self.durationS = durationS
        self.features = features
        self.storageKey = storageKey
        self.createdAt = createdAt
    }
}

/// What a planner takes from a reference: its dominant colours, how bright it is, and for a
/// clip how much it moves.
public struct ReferenceFeatures: Sendable, Hashable, Codable {
    /// `#RRGGBB`, most common first.
    public var palette: [String]
    /// Mean luma, 0 (black) … 1 (white).
    public var brightness: Double
    /// Mean change between sampled frames, 0 (still) … 1; nil for images.
    public var motion: Double?

    public init(palette: [String], brightness: Double, motion: Double?) {
        self.palette = palette
        self.brightness = brightness
        self.motion = motion
    }
}
