public import Foundation

/// A file a job produced, stored in the blob store under `storageKey`.
public struct Artifact: Sendable, Hashable, Identifiable {
    public var id: ArtifactID
    public var jobID: JobID
    public var name: String
    public var contentType: String
    public var byteCount: Int
    /// Lower-case hex SHA-256 of the content.
    public var sha256: String
    public var storageKey: String
    public var createdAt: Date

    public init(id: ArtifactID, jobID: JobID, name: String, contentType: String, byteCount: Int, sha256: String,
                storageKey: String, createdAt: Date) {
        self.id = id
        self.jobID = jobID
        self.name = name
        self.contentType = contentType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.storageKey = storageKey
        self.createdAt = createdAt
    }
}
