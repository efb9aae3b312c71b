public import AtelierCore
public import Foundation

// The JSON shapes of the public API. Field names follow the OpenAPI document
// (Sources/AtelierAPI/Resources/openapi.yaml), which is the contract.

/// `POST /v1/admin/creators`.
public struct CreateCreatorBody: Codable, Sendable {
    public var name: String
    public var weight: Int?
    public var credits: Int?
    public var quotas: QuotasBody?

    public init(name: String, weight: Int? = nil, credits: Int? = nil, quotas: QuotasBody? = nil) {
        self.name = name
        self.weight = weight
        self.credits = credits
        self.quotas = quotas
    }
}

/// A creator's quotas. In a request, null (or absent) means "the platform's default"; in a
/// response, the quotas in force, null meaning no limit.
public struct QuotasBody: Codable, Sendable, Hashable {
    public var maxQueuedJobs: Int?
    public var maxRunningJobs: Int?
    public var maxDailyCredits: Int?

    enum CodingKeys: String, CodingKey {
        case maxQueuedJobs = "max_queued_jobs"
        case maxRunningJobs = "max_running_jobs"
        case maxDailyCredits = "max_daily_credits"
    }

    public init(maxQueuedJobs: Int? = nil, maxRunningJobs: Int? = nil, maxDailyCredits: Int? = nil) {
        self.maxQueuedJobs = maxQueuedJobs
        self.maxRunningJobs = maxRunningJobs
        self.maxDailyCredits = maxDailyCredits
    }

    public init(_ quotas: Quotas) {
        self.init(maxQueuedJobs: quotas.maxQueuedJobs, maxRunningJobs: quotas.maxRunningJobs,
                  maxDailyCredits: quotas.maxDailyCredits)
    }

    public var quotas: Quotas {
        Quotas(maxQueuedJobs: maxQueuedJobs, maxRunningJobs: maxRunningJobs, maxDailyCredits: maxDailyCredits)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxQueuedJobs, forKey: .maxQueuedJobs)
        try c.encode(maxRunningJobs, forKey: .maxRunningJobs)
        try c.encode(maxDailyCredits, forKey: .maxDailyCredits)
    }
}

/// What a creator has used of its daily quota.
public struct UsageBody: Codable, Sendable, Hashable {
    /// Credits captured since 00:00 UTC.
    public var creditsSpentToday: Int
    /// When the day's count starts again.
    public var resetsAt: Date

    enum CodingKeys: String, CodingKey {
        case creditsSpentToday = "credits_spent_today"
        case resetsAt = "resets_at"
    }

    public init(creditsSpentToday: Int, resetsAt: Date) {
        self.creditsSpentToday = creditsSpentToday
        self.resetsAt = resetsAt
    }
}

/// A creator's credits: `available` = `balance` − `reserved`.
public struct CreditAccountResource: Codable, Sendable, Hashable {
    public var balance: Int
    public var reserved: Int
    public var available: Int

    public init(_ account: CreditAccount) {
        balance = account.balance
        reserved = account.reserved
        available = account.available
    }
}

/// `POST /v1/admin/creators/{id}/credits`: a grant (positive) or an adjustment (negative).
public struct GrantCreditsBody: Codable, Sendable {
    public var amount: Int
    public var reason: String

    public init(amount: Int, reason: String) {
        self.amount = amount
        self.reason = reason
    }
}

/// One line of a creator's credit log.
public struct CreditTransactionResource: Codable, Sendable, Hashable {
    /// Opaque; lines are listed newest first and a page ends at `next_cursor`.
    public var id: String
    public var kind: String
    public var amount: Int
    public var jobID: String?
    public var actor: String
    public var reason: String?
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, amount, actor, reason
        case jobID = "job_id"
        case createdAt = "created_at"
    }

    public init(_ line: CreditTransaction) {
        id = String(line.id)
        kind = line.kind.rawValue
        amount = line.amount
        jobID = line.jobID?.rawValue
        actor = line.actor
        reason = line.reason
        createdAt = line.createdAt
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(amount, forKey: .amount)
        try c.encode(jobID, forKey: .jobID)
        try c.encode(actor, forKey: .actor)
        try c.encode(reason, forKey: .reason)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// A creator; `api_key` is present only in the response that created it.
public struct CreatorResource: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var weight: Int
    public var credits: CreditAccountResource
    /// The quotas in force (the creator's own, else the platform's defaults); null: no limit.
    public var quotas: QuotasBody
    /// Only in `GET /v1/me`.
    public var usage: UsageBody?
    public var createdAt: Date
    public var apiKey: String?

    enum CodingKeys: String, CodingKey {
        case id, name, weight, credits, quotas, usage
        case createdAt = "created_at"
        case apiKey = "api_key"
    }

    public init(_ creator: Creator, defaults: Quotas, usage: UsageBody? = nil, apiKey: String? = nil) {
        id = creator.id.rawValue
        name = creator.name
        weight = creator.weight
        credits = CreditAccountResource(creator.account)
        quotas = QuotasBody(defaults.overridden(by: creator.quotas))
        self.usage = usage
        createdAt = creator.createdAt
        self.apiKey = apiKey
    }
}

/// `POST /v1/admin/workers`.
public struct CreateWorkerBody: Codable, Sendable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// A worker machine; `api_key` is present only in the response that created it.
public struct WorkerResource: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var createdAt: Date
    public var apiKey: String?
    /// Whether the worker asked for work or renewed a lease recently.
    public var online: Bool?

    enum CodingKeys: String, CodingKey {
        case id, name, online
        case createdAt = "created_at"
        case apiKey = "api_key"
    }

    public init(_ worker: Worker, apiKey: String? = nil, online: Bool? = nil) {
        id = worker.id.rawValue
        name = worker.name
        createdAt = worker.createdAt
        self.apiKey = apiKey
        self.online = online
    }
}

/// A list response: `{"data": [...]}` plus a cursor when more pages follow.
public struct ListBody<Element: Codable & Sendable>: Codable, Sendable {
    public var data: [Element]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }

    public init(data: [Element], nextCursor: String? = nil) {
        self.data = data
        self.nextCursor = nextCursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        // `next_cursor` is always present, null on the last page, so clients can loop on it.
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// Generation parameters as submitted: every field optional, defaults by kind.
public struct ParamsBody: Codable, Sendable, Hashable {
    public var width: Int?
    public var height: Int?
    public var seed: UInt32?
    public var format: OutputFormat?
    public var frames: Int?
    public var fps: Int?
    public var steps: Int?
    /// A film's length; sets `frames` from `fps`.
    public var durationS: Double?
    public var scenes: Int?
    public var transition: String?
    public var preview: Bool?

    enum CodingKeys: String, CodingKey {
        case width, height, seed, format, frames, fps, steps, scenes, transition, preview
        case durationS = "duration_s"
    }

    public init(width: Int? = nil, height: Int? = nil, seed: UInt32? = nil, format: OutputFormat? = nil,
                frames: Int? = nil, fps: Int? = nil, steps: Int? = nil, durationS: Double? = nil, scenes: Int? = nil,
                transition: String? = nil, preview: Bool? = nil) {
        self.width = width
        self.height = height
        self.seed = seed
        self.format = format
        self.frames = frames
        self.fps = fps
        self.steps = steps
        self.durationS = durationS
        self.scenes = scenes
        self.transition = transition
        self.preview = preview
    }

    /// The length of a film when neither `duration_s` nor `frames` is given.
    public static let defaultFilmSeconds = 12.0

    /// These values laid over the kind's defaults. A film (mp4, webm) defaults to 1280×720 at
    /// 24 frames a second for 12 seconds; `duration_s` is turned into frames at the frame rate.
    public func resolved(for kind: JobKind) -> JobParams {
        var params = JobParams.defaults(for: kind)
        if let format { params.format = format }
        if params.format.isFilm {
            params.width = 1280
            params.height = 720
            params.fps = 24
        }
        if let width { params.width = width }
        if let height { params.height = height }
        if let seed { params.seed = seed }
        if let fps { params.fps = fps }
        if let frames { params.frames = frames }
        if let steps { params.steps = steps }
        if let durationS {
            // Out-of-range lengths become 0 frames, which validation names as params.duration_s.
            params.frames = durationS.isFinite && abs(durationS) < 1_000_000 ? Int((durationS * Double(params.fps)).rounded()) : 0
        } else if params.format.isFilm && frames == nil {
            params.frames = Int(Self.defaultFilmSeconds) * params.fps
        }
        if let scenes { params.scenes = scenes }
        if let transition { params.transition = transition }
        if let preview { params.preview = preview }
        return params
    }
}

/// `POST /v1/jobs`.
public struct CreateJobBody: Codable, Sendable, Hashable {
    public var kind: JobKind
    public var prompt: String
    public var negativePrompt: String?
    public var model: String?
    public var params: ParamsBody?
    public var priority: Int?
    public var pool: String?
    public var maxAttempts: Int?
    /// Films only: the plan to render — a `/v1/parse` result, perhaps edited — instead of the
    /// built-in planner's. It is checked and repaired like any planner's answer.
    public var plan: JSONValue?

    enum CodingKeys: String, CodingKey {
        case kind, prompt, model, params, priority, pool, plan
        case negativePrompt = "negative_prompt"
        case maxAttempts = "max_attempts"
    }

    public init(kind: JobKind, prompt: String, negativePrompt: String? = nil, model: String? = nil,
                params: ParamsBody? = nil, priority: Int? = nil, pool: String? = nil, maxAttempts: Int? = nil,
                plan: JSONValue? = nil) {
        self.plan = plan
        self.kind = kind
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.model = model
        self.params = params
        self.priority = priority
        self.pool = pool
        self.maxAttempts = maxAttempts
    }

    /// The domain request this body asks for.
    public func request(idempotencyKey: String?) -> JobRequest {
        JobRequest(
            kind: kind, prompt: prompt, negativePrompt: negativePrompt, model: model ?? ModelID.builtin.rawValue,
            params: params?.resolved(for: kind), priority: priority ?? 0, pool: pool, maxAttempts: maxAttempts ?? 3,
            idempotencyKey: idempotencyKey
        )
    }
}

/// A job's error, as `{"code", "message"}`.
public struct ErrorBody: Codable, Sendable, Hashable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// A file a job produced. `url` is signed and works without an Authorization header until `url_expires_at`.
public struct ArtifactResource: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var contentType: String
    public var bytes: Int
    public var sha256: String
    public var url: String
    public var urlExpiresAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, bytes, sha256, url
        case contentType = "content_type"
        case urlExpiresAt = "url_expires_at"
    }

    public init(id: String, name: String, contentType: String, bytes: Int, sha256: String, url: String, urlExpiresAt: Date) {
        self.id = id
        self.name = name
        self.contentType = contentType
        self.bytes = bytes
        self.sha256 = sha256
        self.url = url
        self.urlExpiresAt = urlExpiresAt
    }
}

/// A job as its creator sees it.
public struct JobResource: Codable, Sendable, Hashable {
    public var id: String
    public var kind: JobKind
    public var status: JobStatus
    public var progress: Double
    public var prompt: String
    public var negativePrompt: String?
    public var model: String
    public var pool: String
    public var params: JobParams
    public var priority: Int
    public var cost: Int
    /// Credits captured when the job ended; null while it runs (and for scene jobs, which
    /// draw on their film's reservation).
    public var charged: Int?
    public var attempts: Int
    public var maxAttempts: Int
    public var cancelRequested: Bool
    public var error: ErrorBody?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var artifacts: [ArtifactResource]
    /// Set on a film's scene jobs: the film they belong to.
    public var parentID: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, status, progress, prompt, model, pool, params, priority, cost, charged, attempts, error, artifacts
        case parentID = "parent_id"
        case negativePrompt = "negative_prompt"
        case maxAttempts = "max_attempts"
        case cancelRequested = "cancel_requested"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    public init(_ job: Job, artifacts: [ArtifactResource]) {
        id = job.id.rawValue
        kind = job.kind
        status = job.status
        progress = job.progress
        prompt = job.prompt
        negativePrompt = job.negativePrompt
        model = job.model.rawValue
        pool = job.pool.rawValue
        params = job.params
        priority = job.priority
        cost = job.cost
        charged = job.charged
        attempts = job.attempt
        maxAttempts = job.maxAttempts
        cancelRequested = job.isCancelRequested
        parentID = job.parentID?.rawValue
        error = job.error.map { ErrorBody(code: $0.code, message: $0.message) }
        createdAt = job.createdAt
        startedAt = job.startedAt
        finishedAt = job.finishedAt
        self.artifacts = artifacts
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(status, forKey: .status)
        try c.encode(progress, forKey: .progress)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(negativePrompt, forKey: .negativePrompt)
        try c.encode(model, forKey: .model)
        try c.encode(pool, forKey: .pool)
        try c.encode(params, forKey: .params)
        try c.encode(priority, forKey: .priority)
        try c.encode(cost, forKey: .cost)
        try c.encode(charged, forKey: .charged)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(cancelRequested, forKey: .cancelRequested)
        // Absent values are explicit nulls: every documented field is always present.
        try c.encode(error, forKey: .error)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(artifacts, forKey: .artifacts)
        // Only scene jobs have a parent: the film they belong to.
        try c.encodeIfPresent(parentID, forKey: .parentID)
    }
}

/// A model in the catalog.
public struct ModelResource: Codable, Sendable, Hashable {
    public var id: String
    public var kinds: [JobKind]
    public var description: String
    public var formats: [OutputFormat]

    public init(id: String, kinds: [JobKind], description: String, formats: [OutputFormat]) {
        self.id = id
        self.kinds = kinds
        self.description = description
        self.formats = formats
    }
}

/// `POST /v1/jobs/estimate`: what the job would cost, without queuing it.
public struct EstimateResource: Codable, Sendable, Hashable {
    /// Credits the job would reserve (a film: the sum of its scene jobs).
    public var cost: Int
    /// The creator's available credits now.
    public var available: Int
    /// A film's planned scene count; nil for other jobs.
    public var scenes: Int?
    public var width: Int
    public var height: Int
    public var frames: Int

    public init(cost: Int, available: Int, scenes: Int?, width: Int, height: Int, frames: Int) {
        self.cost = cost
        self.available = available
        self.scenes = scenes
        self.width = width
        self.height = height
        self.frames = frames
    }
}

/// `GET /v1/health`.
public struct HealthResource: Codable, Sendable, Hashable {
    public var status: String

    public init(status: String) { self.status = status }
}

/// One creator's share of a pool's queue.
public struct CreatorQueueResource: Codable, Sendable, Hashable {
    public var creatorID: String
    public var name: String
    public var queued: Int
    public var running: Int
    public var oldestQueuedAgeSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case name, queued, running
        case creatorID = "creator_id"
        case oldestQueuedAgeSeconds = "oldest_queued_age_seconds"
    }

    public init(creatorID: String, name: String, queued: Int, running: Int, oldestQueuedAgeSeconds: Double?) {
        self.creatorID = creatorID
        self.name = name
        self.queued = queued
        self.running = running
        self.oldestQueuedAgeSeconds = oldestQueuedAgeSeconds
    }
}

/// `GET /v1/admin/queues`: one entry per pool.
public struct PoolQueueResource: Codable, Sendable, Hashable {
    public var pool: String
    public var queued: Int
    public var running: Int
    public var oldestQueuedAgeSeconds: Double?
    public var workersOnline: Int
    public var creators: [CreatorQueueResource]

    enum CodingKeys: String, CodingKey {
        case pool, queued, running, creators
        case oldestQueuedAgeSeconds = "oldest_queued_age_seconds"
        case workersOnline = "workers_online"
    }

    public init(pool: String, queued: Int, running: Int, oldestQueuedAgeSeconds: Double?, workersOnline: Int,
                creators: [CreatorQueueResource]) {
        self.pool = pool
        self.queued = queued
        self.running = running
        self.oldestQueuedAgeSeconds = oldestQueuedAgeSeconds
        self.workersOnline = workersOnline
        self.creators = creators
    }
}

/// One server-sent event of `GET /v1/jobs/{id}/events`: the job's state when it changed.
public struct JobEventResource: Codable, Sendable, Hashable {
    public var id: String
    public var status: JobStatus
    public var progress: Double
    public var attempts: Int
    public var error: ErrorBody?

    public init(id: String, status: JobStatus, progress: Double, attempts: Int, error: ErrorBody?) {
        self.id = id
        self.status = status
        self.progress = progress
        self.attempts = attempts
        self.error = error
    }
}

/// A job's chain-of-title receipt: its entry, where it sits in the log and the proof that a
/// signed checkpoint includes it — everything a verifier needs offline, with the ledger key.
public struct ProvenanceResource: Codable, Sendable, Hashable {
    public var leafIndex: Int64
    /// Base64 of the exact entry bytes (canonical JSON).
    public var entry: String
    public var leafHash: String
    public var treeSize: Int64
    public var rootHash: String
    public var inclusionProof: [String]
    /// The signed checkpoint note for `tree_size`.
    public var checkpoint: String

    enum CodingKeys: String, CodingKey {
        case leafIndex = "leaf_index"
        case entry
        case leafHash = "leaf_hash"
        case treeSize = "tree_size"
        case rootHash = "root_hash"
        case inclusionProof = "inclusion_proof"
        case checkpoint
    }

    public init(leafIndex: Int64, entry: String, leafHash: String, treeSize: Int64, rootHash: String,
                inclusionProof: [String], checkpoint: String) {
        self.leafIndex = leafIndex
        self.entry = entry
        self.leafHash = leafHash
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.inclusionProof = inclusionProof
        self.checkpoint = checkpoint
    }
}

/// A consistency proof between two tree sizes of the ledger.
public struct ConsistencyProofResource: Codable, Sendable, Hashable {
    public var from: Int64
    public var to: Int64
    public var proof: [String]

    public init(from: Int64, to: Int64, proof: [String]) {
        self.from = from
        self.to = to
        self.proof = proof
    }
}

/// One signed checkpoint of the ledger, as listed for auditors.
public struct CheckpointResource: Codable, Sendable, Hashable {
    public var treeSize: Int64
    public var checkpoint: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case treeSize = "tree_size"
        case checkpoint
        case createdAt = "created_at"
    }

    public init(treeSize: Int64, checkpoint: String, createdAt: Date) {
        self.treeSize = treeSize
        self.checkpoint = checkpoint
        self.createdAt = createdAt
    }
}

/// A configured planner, its place in the order and its health (`GET /v1/providers`).
public struct ProviderResource: Codable, Sendable, Hashable {
    public struct Health: Codable, Sendable, Hashable {
        /// `ok`, `failing` or `unknown` (not asked yet).
        public var status: String
        public var successes: Int
        public var failures: Int
        public var lastError: String?
        public var lastSuccessAt: Date?
        public var lastFailureAt: Date?
        public var lastLatencyMs: Double?

        enum CodingKeys: String, CodingKey {
            case status, successes, failures
            case lastError = "last_error"
            case lastSuccessAt = "last_success_at"
            case lastFailureAt = "last_failure_at"
            case lastLatencyMs = "last_latency_ms"
        }

        public init(status: String, successes: Int, failures: Int, lastError: String?, lastSuccessAt: Date?,
                    lastFailureAt: Date?, lastLatencyMs: Double?) {
            self.status = status
            self.successes = successes
            self.failures = failures
            self.lastError = lastError
            self.lastSuccessAt = lastSuccessAt
            self.lastFailureAt = lastFailureAt
            self.lastLatencyMs = lastLatencyMs
        }
    }

    public var name: String
    public var kind: String
    /// 1 is tried first.
    public var order: Int
    public var endpoint: String?
    public var model: String?
    public var timeoutMs: Int
    public var health: Health

    enum CodingKeys: String, CodingKey {
        case name, kind, order, endpoint, model, health
        case timeoutMs = "timeout_ms"
    }

    public init(name: String, kind: String, order: Int, endpoint: String?, model: String?, timeoutMs: Int, health: Health) {
        self.name = name
        self.kind = kind
        self.order = order
        self.endpoint = endpoint
        self.model = model
        self.timeoutMs = timeoutMs
        self.health = health
    }
}

/// `POST /v1/cache/clear`.
public struct CacheClearedResource: Codable, Sendable, Hashable {
    public var cleared: Int

    public init(cleared: Int) { self.cleared = cleared }
}

/// An uploaded reference image or clip (`POST /v1/uploads`, `GET /v1/uploads/{id}`).
public struct UploadResource: Codable, Sendable, Hashable {
    public struct Features: Codable, Sendable, Hashable {
        public var palette: [String]
        public var brightness: Double
        public var motion: Double?
    }

    public var id: String
    public var kind: String
    public var contentType: String
    public var bytes: Int
    public var sha256: String
    public var width: Int
    public var height: Int
    public var durationS: Double?
    public var features: Features
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, bytes, sha256, width, height, features
        case contentType = "content_type"
        case durationS = "duration_s"
        case createdAt = "created_at"
    }

    public init(_ upload: Upload) {
        id = upload.id.rawValue
        kind = upload.kind.rawValue
        contentType = upload.contentType
        bytes = upload.byteCount
        sha256 = upload.sha256
        width = upload.width
        height = upload.height
        durationS = upload.durationS
        features = Features(palette: upload.features.palette, brightness: upload.features.brightness,
                            motion: upload.features.motion)
        createdAt = upload.createdAt
    }
}
