public import Foundation

/// Who is calling: the operator (admin key), a creator, or a worker machine.
public enum Principal: Sendable, Hashable, CustomStringConvertible {
    case admin
    case creator(CreatorID)
    case worker(WorkerID)

    public var role: Role {
        switch self {
        case .admin: .admin
        case .creator: .creator
        case .worker: .worker
        }
    }

    public var description: String {
        switch self {
        case .admin: "admin"
        case .creator(let id): "creator:\(id)"
        case .worker(let id): "worker:\(id)"
        }
    }
}

/// What a key may do. Each endpoint names the roles it admits.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    case admin
    case creator
    case worker
}

/// A machine registered to run jobs over HTTP.
public struct Worker: Sendable, Hashable, Identifiable {
    public var id: WorkerID
    public var name: String
    public var createdAt: Date

    public init(id: WorkerID, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }

    /// Checks the rules a worker's name must satisfy before it is stored.
    public static func validate(name: String) throws(ValidationError) {
        guard Identifier<WorkerTag>.isWellFormed(name) else {
            throw ValidationError(field: "name", message: "must be 1 to 64 letters, digits, '-' or '_'")
        }
    }
}
