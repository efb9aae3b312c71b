public import Foundation

/// A unit of generative work and everything known about its progress.
public struct Job: Sendable, Hashable, Identifiable {
    public var id: JobID
    public var creatorID: CreatorID
    public var kind: JobKind
    public var pool: PoolName
    public var model: ModelID
    public var prompt: String
    public var negativePrompt: String?
    public var params: JobParams
    /// Higher runs first among one creator's jobs; it never affects other creators.
    public var priority: Int
    /// The job's price in credits as estimated when it was queued: reserved from its creator's
    /// account until it ends, and its size for fair scheduling.
    public var cost: Int
    /// Credits captured when the job ended (see `CreditRules`); nil while it is open, and for
    /// a film's scene jobs, which draw on their film's reservation.
    public var charged: Int?
    public var status: JobStatus
    /// Attempts started so far; also the fencing token of the current lease.
    public var attempt: Int
    public var maxAttempts: Int
    public var progress: Double
    public var error: JobError?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Earliest time a queued job may be dispatched (later than now while a retry backs off).
    public var availableAt: Date
    /// Set when a running job is asked to stop; its worker learns it at the next heartbeat.
    public var isCancelRequested: Bool
    public var parentID: JobID?
    public var idempotencyKey: String?
    /// The worker holding the current lease, while running.
    public var leaseHolder: WorkerID?
    public var leaseExpiresAt: Date?

    public init(
        id: JobID, creatorID: CreatorID, kind: JobKind, pool: PoolName, model: ModelID, prompt: String,
        negativePrompt: String? = nil, params: JobParams, priority: Int = 0, cost: Int, status: JobStatus = .queued,
        attempt: Int = 0, maxAttempts: Int = 3, progress: Double = 0, error: JobError? = nil, createdAt: Date,
        startedAt: Date? = nil, finishedAt: Date? = nil, availableAt: Date? = nil, isCancelRequested: Bool = false,
        parentID: JobID? = nil, idempotencyKey: String? = nil, leaseHolder: WorkerID? = nil, leaseExpiresAt: Date? = nil,
        charged: Int? = nil
    ) {
        self.id = id
        self.creatorID = creatorID
        self.kind = kind
        self.pool = pool
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.params = params
        self.priority = priority
        self.cost = cost
        self.status = status
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.progress = progress
        self.error = error
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.availableAt = availableAt ?? createdAt
        self.isCancelRequested = isCancelRequested
        self.parentID = parentID
        self.idempotencyKey = idempotencyKey
        self.leaseHolder = leaseHolder
        self.leaseExpiresAt = leaseExpiresAt
        self.charged = charged
    }
}
