public import AtelierCore
public import Foundation

// The worker protocol: how `atelier worker` machines lease and report jobs over HTTP.
// Every call after a lease carries the lease's `fence`; a stale fence is a 409 `lease-lost`.

/// `POST /v1/worker/lease`: long-polls up to `wait_seconds` for work.
public struct LeaseCallBody: Codable, Sendable, Hashable {
    public var pool: String
    public var models: [String]
    public var limit: Int
    public var waitSeconds: Double

    enum CodingKeys: String, CodingKey {
        case pool, models, limit
        case waitSeconds = "wait_seconds"
    }

    public init(pool: String, models: [String], limit: Int, waitSeconds: Double) {
        self.pool = pool
        self.models = models
        self.limit = limit
        self.waitSeconds = waitSeconds
    }
}

/// Everything a worker needs to run a job.
public struct WorkerJobBody: Codable, Sendable, Hashable {
    public var id: String
    public var creatorID: String
    public var kind: JobKind
    public var pool: String
    public var model: String
    public var prompt: String
    public var negativePrompt: String?
    public var params: JobParams
    public var priority: Int
    public var cost: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var progress: Double
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, pool, model, prompt, params, priority, cost, attempt, progress
        case creatorID = "creator_id"
        case negativePrompt = "negative_prompt"
        case maxAttempts = "max_attempts"
        case createdAt = "created_at"
    }

    public init(_ job: Job) {
        id = job.id.rawValue
        creatorID = job.creatorID.rawValue
        kind = job.kind
        pool = job.pool.rawValue
        model = job.model.rawValue
        prompt = job.prompt
        negativePrompt = job.negativePrompt
        params = job.params
        priority = job.priority
        cost = job.cost
        attempt = job.attempt
        maxAttempts = job.maxAttempts
        progress = job.progress
        createdAt = job.createdAt
    }

    /// The job as the worker's backend sees it; `nil` when an identifier is malformed.
    public var job: Job? {
        guard let id = JobID(rawValue: id), let creator = CreatorID(rawValue: creatorID),
              let pool = PoolName(rawValue: pool), let model = ModelID(rawValue: model) else { return nil }
        return Job(id: id, creatorID: creator, kind: kind, pool: pool, model: model, prompt: prompt,
                   negativePrompt: negativePrompt, params: params, priority: priority, cost: cost, status: .running,
                   attempt: attempt, maxAttempts: maxAttempts, progress: progress, createdAt: createdAt)
    }
}

/// A leased job and the fence that proves the lease.
public struct LeaseBody: Codable, Sendable, Hashable {
    public var fence: Int64
    public var job: WorkerJobBody

    public init(fence: Int64, job: WorkerJobBody) {
        self.fence = fence
        self.job = job
    }
}

/// The answer to a lease call (and the `next` part of a completion).
public struct LeaseBatchBody: Codable, Sendable, Hashable {
    public var leases: [LeaseBody]
    public var leaseDurationSeconds: Double

    enum CodingKeys: String, CodingKey {
        case leases
        case leaseDurationSeconds = "lease_duration_seconds"
    }

    public init(leases: [LeaseBody], leaseDurationSeconds: Double) {
        self.leases = leases
        self.leaseDurationSeconds = leaseDurationSeconds
    }
}

/// `POST /v1/worker/jobs/{id}/heartbeat`.
public struct HeartbeatCallBody: Codable, Sendable, Hashable {
    public var fence: Int64
    public var progress: Double

    public init(fence: Int64, progress: Double) {
        self.fence = fence
        self.progress = progress
    }
}

public struct HeartbeatReplyBody: Codable, Sendable, Hashable {
    public var leaseExpiresAt: Date
    /// The creator cancelled the job: stop, and report it with `fail`.
    public var cancelRequested: Bool

    enum CodingKeys: String, CodingKey {
        case leaseExpiresAt = "lease_expires_at"
        case cancelRequested = "cancel_requested"
    }

    public init(leaseExpiresAt: Date, cancelRequested: Bool) {
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
    }
}

/// The answer to `PUT /v1/worker/jobs/{id}/artifacts/{name}`: what the server stored.
public struct UploadedArtifactBody: Codable, Sendable, Hashable {
    public var name: String
    public var contentType: String
    public var bytes: Int
    public var sha256: String

    enum CodingKeys: String, CodingKey {
        case name, bytes, sha256
        case contentType = "content_type"
    }

    public init(name: String, contentType: String, bytes: Int, sha256: String) {
        self.name = name
        self.contentType = contentType
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// `POST /v1/worker/jobs/{id}/complete`: the uploaded artifacts, and optionally the next lease call.
public struct CompleteCallBody: Codable, Sendable, Hashable {
    public var fence: Int64
    public var artifacts: [UploadedArtifactBody]
    public var next: LeaseCallBody?

    public init(fence: Int64, artifacts: [UploadedArtifactBody], next: LeaseCallBody?) {
        self.fence = fence
        self.artifacts = artifacts
        self.next = next
    }
}

/// `POST /v1/worker/jobs/{id}/fail`.
public struct FailCallBody: Codable, Sendable, Hashable {
    public var fence: Int64
    public var error: ErrorBody
    public var retryable: Bool

    public init(fence: Int64, error: ErrorBody, retryable: Bool) {
        self.fence = fence
        self.error = error
        self.retryable = retryable
    }
}

/// What became of a failed attempt: `retrying` (at `retry_at`), `failed` or `canceled`.
public struct FailReplyBody: Codable, Sendable, Hashable {
    public var outcome: String
    public var retryAt: Date?

    enum CodingKeys: String, CodingKey {
        case outcome
        case retryAt = "retry_at"
    }

    public init(outcome: String, retryAt: Date?) {
        self.outcome = outcome
        self.retryAt = retryAt
    }
}

/// `POST /v1/worker/jobs/{id}/release`.
public struct ReleaseCallBody: Codable, Sendable, Hashable {
    public var fence: Int64

    public init(fence: Int64) { self.fence = fence }
}

/// `GET /v1/worker/jobs/{id}/scenes?fence=`: for a film's compose step, its scene jobs' clips
/// in scene order; each is fetched from `GET /v1/worker/jobs/{id}/scenes/{scene}?fence=`.
public struct SceneClipsBody: Codable, Sendable, Hashable {
    public var data: [SceneClipBody]

    public init(data: [SceneClipBody]) {
        self.data = data
    }
}

public struct SceneClipBody: Codable, Sendable, Hashable {
    public var scene: Int
    public var jobID: String
    public var bytes: Int
    public var sha256: String

    enum CodingKeys: String, CodingKey {
        case scene, bytes, sha256
        case jobID = "job_id"
    }

    public init(scene: Int, jobID: String, bytes: Int, sha256: String) {
        self.scene = scene
        self.jobID = jobID
        self.bytes = bytes
        self.sha256 = sha256
    }
}
