public import AtelierCore
public import AtelierBlobs
public import AtelierScheduler
public import AtelierStore
import AtelierLedger
public import AtelierMedia
public import AtelierPlanning
import AtelierWorker
public import AtelierWire
import Foundation
import Hummingbird

/// Everything the route handlers share: built once by `AtelierServer`, passed to each route group.
public struct APIServices: Sendable {
    public let store: ObservedJobStore
    /// Submissions go through group commit (see `EnqueueCoalescer`).
    public let submissions: EnqueueCoalescer
    public let blobs: any BlobStore
    public let auth: Authenticator
    public let signer: URLSigner
    public let json: JSONIO
    public let clock: any WallClock
    public let ids: IDGenerator
    /// Each model's cost model (`ATELIER_PRICING`).
    public let pricing: Pricing
    public let catalog: ModelCatalog
    public let workers: WorkerRegistry
    public let metrics: APIMetrics
    public let lease: LeasePolicy
    public let retry: RetryPolicy
    /// The externally visible base URL for links (signed artifact URLs), when configured.
    public let publicURL: String?
    /// Largest artifact a worker may upload.
    public let uploadLimit: Int
    /// The chain of title: the log's origin, its signer and how entries are made.
    public let ledger: LedgerSequencer
    /// Prompt planning, and the content check every prompt passes.
    public let planning: PlanningService
    /// No ffmpeg for this process's workers: animated formats are refused at submission.
    public let videoPoolDisabled: Bool
    /// Reads uploads (ffmpeg and ffprobe); nil when either is missing.
    public let mediaInspector: MediaInspector?
    /// Job documents read since the last write (embedded SQLite only; nil with PostgreSQL).
    public let jobDocuments: JobDocumentCache?

    /// The base of absolute links: the configured public URL, or the Host the client used.
    func baseURL(for request: Request) -> String {
        if let publicURL { return publicURL }
        let host = request.head.authority.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        return "http://\(host)"
    }

    /// A job as its creator sees it, with signed links to its artifacts.
    func resource(for job: Job, request: Request) async throws -> JobResource {
        var artifacts: [ArtifactResource] = []
        if job.status == .succeeded {
            let base = baseURL(for: request)
            let now = clock.now
            artifacts = try await store.artifacts(of: job.id).map { artifact in
                let signed = signer.sign(artifact.id, now: now)
                // Straight to the object store when it hands out links; through us otherwise.
                let direct = BlobKey(rawValue: artifact.storageKey)
                    .flatMap { blobs.presignedURL(for: $0, expiresIn: signer.lifetime, now: now) }
                return ArtifactResource(
                    id: artifact.id.rawValue, name: artifact.name, contentType: artifact.contentType,
                    bytes: artifact.byteCount, sha256: artifact.sha256,
                    url: direct ?? "\(base)/v1/artifacts/\(artifact.id.rawValue)?\(signed.query)", urlExpiresAt: signed.expires
                )
            }
        }
        return JobResource(job, artifacts: artifacts)
    }

    /// The body of `GET /v1/jobs/{id}`: from the document cache when no write happened since
    /// it was read, else read, encoded and kept. A succeeded job's document is never kept: its
    /// artifact links are signed for the moment and the host of each request.
    func jobDocument(id: JobID, scope: AccessScope, request: Request) async throws -> ByteBuffer {
        let readAt = jobDocuments?.generation
        if let cached = jobDocuments?.document(for: id, scope: scope) { return cached }
        guard let job = try await store.job(id: id, scope: scope) else { throw APIProblem.notFound("the job") }
        let body = try json.encode(try await resource(for: job, request: request))
        if let jobDocuments, let readAt, job.status != .succeeded {
            jobDocuments.keep(body, for: id, owner: job.creatorID, readAt: readAt)
        }
        return body
    }

    /// What a principal may see.
    static func scope(of principal: Principal) -> AccessScope {
        switch principal {
        case .creator(let id): .creator(id)
        case .admin, .worker: .operator
        }
    }
}

/// The models this server can run.
public struct ModelCatalog: Sendable {
    public var models: [ModelResource]
    /// Each model's version as the ledger records it (a renderer release, a checkpoint hash).
    public var versions: [String: String]

    public init(models: [ModelResource], versions: [String: String] = [:]) {
        self.models = models
        self.versions = versions
    }

    public static let builtin = ModelCatalog(models: [
        ModelResource(
            id: ModelID.builtin.rawValue, kinds: [.image, .video],
            description: "Atelier's procedural renderer: deterministic scenes from the prompt and seed, no GPU needed",
            formats: [.png, .gif, .mp4, .webm]
        ),
    ], versions: [ModelID.builtin.rawValue: "atelier-procedural-1"])

    /// The version the ledger records for a model.
    public func version(of model: ModelID) -> String { versions[model.rawValue] ?? "unversioned" }

    func model(_ id: String) -> ModelResource? { models.first { $0.id == id } }
}
