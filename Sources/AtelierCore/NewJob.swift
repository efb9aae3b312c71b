public import Foundation

/// A validated job ready to be queued: everything the submitter decides, nothing the engine does.
public struct NewJob: Sendable, Hashable {
    public var id: JobID
    public var creatorID: CreatorID
    public var kind: JobKind
    public var pool: PoolName
    public var model: ModelID
    public var prompt: String
    public var negativePrompt: String?
    public var params: JobParams
    public var priority: Int
    public var cost: Int
    public var maxAttempts: Int
    public var parentID: JobID?
    /// Queued waiting for its children (a film waiting for its scene jobs): never dispatched
    /// until the last child succeeds, when it becomes ready as the compose step.
    public var waitsForChildren: Bool
    /// Unique per creator: queueing the same key again returns the first job instead of a new one.
    public var idempotencyKey: String?
    /// A digest of the submitted request, compared when an idempotency key is reused.
    public var requestFingerprint: String?

    public init(id: JobID, creatorID: CreatorID, kind: JobKind, pool: PoolName, model: ModelID, prompt: String,
                negativePrompt: String? = nil, params: JobParams, priority: Int = 0, cost: Int, maxAttempts: Int = 3,
                parentID: JobID? = nil, waitsForChildren: Bool = false, idempotencyKey: String? = nil,
                requestFingerprint: String? = nil) {
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
        self.maxAttempts = maxAttempts
        self.parentID = parentID
        self.waitsForChildren = waitsForChildren
        self.idempotencyKey = idempotencyKey
        self.requestFingerprint = requestFingerprint
    }
}

extension Job {
    /// The job as it stands the moment it is queued: nothing started, nothing charged yet. A job
    /// that waits for its children is already in production (`running`) while they run.
    public init(queued new: NewJob, at date: Date) {
        self.init(
            id: new.id, creatorID: new.creatorID, kind: new.kind, pool: new.pool, model: new.model,
            prompt: new.prompt, negativePrompt: new.negativePrompt, params: new.params, priority: new.priority,
            cost: new.cost, status: new.waitsForChildren ? .running : .queued, maxAttempts: new.maxAttempts,
            createdAt: date, startedAt: new.waitsForChildren ? date : nil, parentID: new.parentID,
            idempotencyKey: new.idempotencyKey
        )
    }
}
