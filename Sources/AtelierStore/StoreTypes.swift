public import AtelierCore
public import Foundation

/// Whose data a query may see: a creator sees only its own; the operator (admin, workers,
/// the engine itself) sees everything.
public enum AccessScope: Sendable, Hashable {
    case creator(CreatorID)
    case `operator`

    var creatorID: CreatorID? {
        switch self {
        case .creator(let id): id
        case .operator: nil
        }
    }
}

/// The result of queueing one job.
public enum EnqueueOutcome: Sendable, Hashable {
    case created(Job)
    /// The creator had already queued this idempotency key with the same request.
    case existing(Job)

    public var job: Job {
        switch self {
        case .created(let job), .existing(let job): job
        }
    }
}

/// A page of jobs, newest first.
public struct JobQuery: Sendable, Hashable {
    public var scope: AccessScope
    public var status: JobStatus?
    public var limit: Int
    /// Continue after this job (exclusive), as returned in `JobPage.nextCursor`.
    public var cursor: JobID?

    public init(scope: AccessScope, status: JobStatus? = nil, limit: Int = 50, cursor: JobID? = nil) {
        self.scope = scope
        self.status = status
        self.limit = limit
        self.cursor = cursor
    }
}

public struct JobPage: Sendable, Hashable {
    public var jobs: [Job]
    /// Present when more jobs may follow.
    public var nextCursor: JobID?

    public init(jobs: [Job], nextCursor: JobID?) {
        self.jobs = jobs
        self.nextCursor = nextCursor
    }
}

/// What a worker asks for when it has free slots.
public struct LeaseRequest: Sendable, Hashable {
    public var pool: PoolName
    public var worker: WorkerID
    /// Only jobs for these models are leased.
    public var models: Set<ModelID>
    public var limit: Int
    public var leaseDuration: TimeInterval

    public init(pool: PoolName, worker: WorkerID, models: Set<ModelID>, limit: Int = 1, leaseDuration: TimeInterval = 30) {
        self.pool = pool
        self.worker = worker
        self.models = models
        self.limit = limit
        self.leaseDuration = leaseDuration
    }
}

/// Proof of holding a job's current lease. `fence` grows with every lease of the job, so a
/// holder whose lease expired and was given to another can no longer change the job.
public struct LeaseToken: Sendable, Hashable, CustomStringConvertible {
    public var jobID: JobID
    public var fence: Int64

    public init(jobID: JobID, fence: Int64) {
        self.jobID = jobID
        self.fence = fence
    }

    public var description: String { "\(jobID)#\(fence)" }
}

/// A job handed to a worker together with the token that lets it report back.
public struct Lease: Sendable, Hashable {
    public var job: Job
    public var token: LeaseToken

    public init(job: Job, token: LeaseToken) {
        self.job = job
        self.token = token
    }
}

public enum HeartbeatOutcome: Sendable, Hashable {
    case renewed(until: Date, isCancelRequested: Bool)
    /// The token is stale: the lease expired, was handed to someone else, or the job ended.
    case leaseLost
}

/// A successful attempt and the artifacts it stored.
public struct Completion: Sendable, Hashable {
    public var token: LeaseToken
    public var artifacts: [Artifact]

    public init(token: LeaseToken, artifacts: [Artifact] = []) {
        self.token = token
        self.artifacts = artifacts
    }
}

public enum CompletionOutcome: Sendable, Hashable {
    case completed
    case leaseLost
}

public enum FailureOutcome: Sendable, Hashable {
    case retrying(at: Date)
    case failed
    case canceled
    case leaseLost
}

public enum CancelOutcome: Sendable, Hashable {
    case canceled(Job)
    /// The job is running; its worker will stop at its next heartbeat.
    case cancelRequested(Job)
    case alreadyFinished(Job)
    case notFound
}

/// A job whose lease expired, and what became of it.
public struct ReclaimedLease: Sendable, Hashable {
    public var jobID: JobID
    public var status: JobStatus

    public init(jobID: JobID, status: JobStatus) {
        self.jobID = jobID
        self.status = status
    }
}

/// One creator's share of a pool's queue.
public struct CreatorQueueSummary: Sendable, Hashable {
    public var creatorID: CreatorID
    public var queued: Int
    public var running: Int
    public var oldestQueuedAt: Date?

    public init(creatorID: CreatorID, queued: Int, running: Int, oldestQueuedAt: Date?) {
        self.creatorID = creatorID
        self.queued = queued
        self.running = running
        self.oldestQueuedAt = oldestQueuedAt
    }
}

/// A page of one creator's credit log, newest first.
public struct CreditTransactionQuery: Sendable, Hashable {
    public var creatorID: CreatorID
    public var limit: Int
    /// Continue after this line (exclusive), as returned in `CreditTransactionPage.nextCursor`.
    public var cursor: Int64?

    public init(creatorID: CreatorID, limit: Int = 50, cursor: Int64? = nil) {
        self.creatorID = creatorID
        self.limit = limit
        self.cursor = cursor
    }
}

public struct CreditTransactionPage: Sendable, Hashable {
    public var transactions: [CreditTransaction]
    /// Present when more lines may follow.
    public var nextCursor: Int64?

    public init(transactions: [CreditTransaction], nextCursor: Int64?) {
        self.transactions = transactions
        self.nextCursor = nextCursor
    }

    /// A page cut from `lines`, fetched with one more than `limit` to learn whether more follow.
    init(lines: [CreditTransaction], limit: Int) {
        let page = Array(lines.prefix(limit))
        self.init(transactions: page, nextCursor: lines.count > limit ? page.last?.id : nil)
    }
}
