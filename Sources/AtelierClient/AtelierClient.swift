public import AsyncHTTPClient
public import AtelierCore
public import AtelierWire
public import Foundation

/// The API as creators and operators use it: the CLI is built on this.
public struct AtelierClient: Sendable {
    public let transport: HTTPTransport

    public init(server: String, apiKey: String?, client: HTTPClient = .shared) {
        transport = HTTPTransport(baseURL: server, apiKey: apiKey, client: client)
    }

    public func createCreator(name: String, weight: Int, credits: Int) async throws -> CreatorResource {
        try await transport.call(.POST, "/v1/admin/creators", json: CreateCreatorBody(name: name, weight: weight, credits: credits))
    }

    public func creators() async throws -> [CreatorResource] {
        try await transport.call(.GET, "/v1/admin/creators", as: ListBody<CreatorResource>.self).data
    }

    public func createWorker(name: String) async throws -> WorkerResource {
        try await transport.call(.POST, "/v1/admin/workers", json: CreateWorkerBody(name: name))
    }

    public func submit(_ body: CreateJobBody, idempotencyKey: String? = nil) async throws -> JobResource {
        try await transport.call(.POST, "/v1/jobs", json: body,
                                 headers: idempotencyKey.map { [("Idempotency-Key", $0)] } ?? [])
    }

    public func job(_ id: String) async throws -> JobResource {
        try await transport.call(.GET, "/v1/jobs/\(try Self.segment(id))")
    }

    public func jobs(status: JobStatus? = nil, limit: Int = 20, cursor: String? = nil) async throws -> ListBody<JobResource> {
        var query = ["limit=\(limit)"]
        if let status { query.append("status=\(status.rawValue)") }
        if let cursor { query.append("cursor=\(try Self.segment(cursor))") }
        return try await transport.call(.GET, "/v1/jobs?" + query.joined(separator: "&"))
    }

    public func cancel(_ id: String) async throws -> JobResource {
        try await transport.call(.POST, "/v1/jobs/\(try Self.segment(id))/cancel")
    }

    /// The job's state changes until it finishes.
    public func events(of id: String) throws -> AsyncThrowingStream<(event: String, data: String), any Error> {
        transport.events("/v1/jobs/\(try Self.segment(id))/events")
    }

    /// An artifact's bytes, through its signed URL.
    public func download(_ artifact: ArtifactResource) async throws -> Data {
        try await transport.send(.GET, artifact.url).body
    }

    /// Ids go into paths; anything but an id is refused before it reaches the network.
    static func segment(_ id: String) throws -> String {
        guard JobID(rawValue: id) != nil else { throw ClientError.transport("\"\(id)\" is not a valid id") }
        return id
    }
}
