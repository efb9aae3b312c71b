public import AtelierCore
public import Foundation

/// The storage boundary of the job engine. Every engine (SQLite, PostgreSQL) implements it and
/// must pass the store contract suite unchanged; SQL dialect stays inside the engine.
///
/// Time is always passed in (`now`), so engines never read a clock and tests control time.
/// Every operation that changes state is one transaction: it happens entirely or not at all.
public protocol JobStore: Sendable {
    // MARK: Creators, workers and keys

    /// Stores a new creator and, when given, the hash of its API key, in one transaction.
    /// A second creator with the same name is a `StoreError.duplicateName`.
    func createCreator(_ creator: Creator, keyHash: String?) async throws
    func creator(id: CreatorID) async throws -> Creator?
    /// All creators, oldest first.
    func creators() async throws -> [Creator]
    /// Stores a new worker machine and the hash of its API key, in one transaction.
    func createWorker(_ worker: Worker, keyHash: String) async throws
    /// All workers, oldest first.
    func workers() async throws -> [Worker]
    /// Whose key hashes to `keyHash` (lower-case hex SHA-256), if anyone's.
    func principal(keyHash: String) async throws -> Principal?

    // MARK: Credits

    /// Grants credits (positive amount) or takes them away (negative: an adjustment, refused
    /// with `insufficientCredits` when the account would fall below what its open jobs hold);
    /// returns the account after the change. A creator's first grant is written by
    /// `createCreator` from `Creator.credits`.
    func adjustCredits(_ change: CreditChange, now: Date) async throws -> CreditAccount
    /// A creator's credit log, newest first. Callers check the creator's scope first.
    func creditTransactions(_ query: CreditTransactionQuery) async throws -> CreditTransactionPage
    /// Credits captured from the creator's account on `now`'s UTC day (its spending today).
    func creditsSpentToday(by creator: CreatorID, now: Date) async throws -> Int

    // MARK: Quotas

    /// The quotas of creators who have no overrides of their own (see `QuotaRules`).
    var defaultQuotas: Quotas { get }
    /// Replaces a creator's own quotas (nil values follow the defaults); returns the creator.
    func setQuotas(_ quotas: Quotas, of creator: CreatorID) async throws -> Creator

    // MARK: Jobs

    /// Queues jobs in one transaction. A job whose idempotency key its creator already used
    /// returns the existing job (or a `StoreError.idempotencyConflict` if the request differs).
    /// Each new top-level job reserves its cost from its creator's credits in the same
    /// transaction (scene jobs draw on their film's); a creator who cannot cover its share
    /// fails the batch with `StoreError.insufficientCredits` and nothing is queued; so does a
    /// quota the batch would pass (`StoreError.quotaExceeded`).
    func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueOutcome]
    /// A job, if it exists and the scope may see it.
    func job(id: JobID, scope: AccessScope) async throws -> Job?
    /// Jobs newest first, one page at a time.
    func jobs(_ query: JobQuery) async throws -> JobPage
    func artifacts(of job: JobID) async throws -> [Artifact]
    /// An artifact, if it exists and the scope may see the job that made it.
    func artifact(id: ArtifactID, scope: AccessScope) async throws -> Artifact?

    // MARK: Uploads

    /// Records an upload whose bytes are already in the blob store.
    func createUpload(_ upload: Upload) async throws
    /// An upload, if it exists and the scope may see it (its creator, or an operator).
    func upload(id: UploadID, scope: AccessScope) async throws -> Upload?
    /// A parent's children (a film's scene jobs), in scene order. Callers check the parent's
    /// scope first: children always belong to their parent's creator.
    func children(of parent: JobID) async throws -> [Job]

    // MARK: Dispatch

    /// Leases up to `request.limit` jobs in fair-share order, each with a new fencing token.
    func leaseJobs(_ request: LeaseRequest, now: Date) async throws -> [Lease]
    /// Renews a lease and records progress; tells the holder whether its job was cancelled.
    func heartbeat(_ token: LeaseToken, progress: Double?, leaseDuration: TimeInterval, now: Date) async throws
        -> HeartbeatOutcome
    /// Marks leased jobs succeeded and records their artifacts. Stale tokens change nothing.
    func complete(_ completions: [Completion], now: Date) async throws -> [CompletionOutcome]
    /// Completes finished attempts and leases the next jobs in one transaction: a worker's
    /// "acknowledge and fetch", one round trip per job instead of two.
    func complete(_ completions: [Completion], thenLease next: LeaseRequest, now: Date) async throws
        -> (outcomes: [CompletionOutcome], leases: [Lease])
    /// Ends an attempt in failure: retried at `retryAt` when given and attempts remain, failed
    /// otherwise; a job whose cancellation was requested ends canceled.
    func fail(_ token: LeaseToken, error: JobError, retryAt: Date?, now: Date) async throws -> FailureOutcome
    /// Hands an unfinished lease back (graceful shutdown): the job is queued again and the
    /// attempt does not count.
    func release(_ token: LeaseToken, now: Date) async throws -> Bool
    /// Cancels a queued job at once, or flags a running one for its worker to stop.
    func cancel(id: JobID, scope: AccessScope, now: Date) async throws -> CancelOutcome

    // MARK: Maintenance

    /// Requeues (or fails, when attempts are exhausted) every job whose lease expired before `now`.
    func reclaimExpiredLeases(now: Date) async throws -> [ReclaimedLease]
    /// Makes jobs whose retry backoff has elapsed ready for dispatch; returns how many.
    func promoteDueRetries(now: Date) async throws -> Int

    /// Engine-specific upkeep, called periodically by the maintenance service (SQLite:
    /// checkpointing the write-ahead log off the commit path).
    func performHousekeeping() async throws

    /// Per pool and creator: how many jobs wait and run, and the oldest waiting job's creation time.
    func queueSummary(pool: PoolName) async throws -> [CreatorQueueSummary]

    /// Rung whenever jobs become ready in a pool, so idle workers wake without polling.
    var workSignal: WorkSignal { get }

    /// The count of committed writes, when this engine sees every write (nil otherwise).
    var writeGeneration: WriteGeneration? { get }

    /// The chain of title kept in the same database (entries are queued by `complete`).
    var ledger: any LedgerStore { get }

    /// Closes the engine's connections. The store is unusable afterwards.
    func shutdown() async
}

extension JobStore {
    /// Engines that cannot see every write (another node's, another process's) have no count.
    public var writeGeneration: WriteGeneration? { nil }

    /// Stores a new creator that has no API key (embedded use, tests, benchmarks).
    public func createCreator(_ creator: Creator) async throws {
        try await createCreator(creator, keyHash: nil)
    }
}
