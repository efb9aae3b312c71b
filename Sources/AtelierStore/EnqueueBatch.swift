import AtelierCore

/// What one enqueue batch decides job by job, the same on both engines: which jobs are new,
/// which an idempotency key resolves to a job queued before (in the database, or earlier in
/// this batch), and each job's outcome, in the batch's order. The engines do the reads it asks
/// for (a parent's owner, a key already used) and write `inserted`.
struct EnqueueBatch {
    let now: Int64
    private(set) var outcomes: [EnqueueOutcome] = []
    private(set) var inserted: [NewJob] = []
    /// Idempotency keys first used earlier in this batch, per creator.
    private var keys: [QueueKeyedIdempotency: NewJob] = [:]
    /// Jobs queued earlier in this batch (a film before its scene jobs).
    private var ids: Set<JobID> = []
    /// Jobs of this batch that an idempotency key resolved to a job queued before.
    private var reused: [JobID: Job] = [:]

    init(now: Int64, capacity: Int) {
        self.now = now
        outcomes.reserveCapacity(capacity)
        inserted.reserveCapacity(capacity)
    }

    /// True when `new` is a child of a job its idempotency key resolved to one queued before:
    /// that job was queued with its children, so `new` is answered with it and not queued.
    mutating func answersWithReusedParent(_ new: NewJob) -> Bool {
        guard let parent = new.parentID, let earlier = reused[parent] else { return false }
        outcomes.append(.existing(earlier))
        return true
    }

    /// The parent the database must show belongs to `new`'s creator; nil when there is none or
    /// it is queued earlier in this batch.
    func parentToLookUp(_ new: NewJob) -> JobID? {
        guard let parent = new.parentID, !ids.contains(parent) else { return nil }
        return parent
    }

    /// Answers `new` with `existing`, the job queued before under the same idempotency key,
    /// when the request is the same (its fingerprint is `fingerprint`); throws the conflict
    /// otherwise.
    mutating func reuse(_ existing: Job, fingerprint: String?, for new: NewJob, key: String) throws {
        try StoreArguments.checkReuse(of: key, fingerprint: fingerprint, by: new, original: existing.id)
        outcomes.append(.existing(existing))
        reused[new.id] = existing
    }

    /// True when a job earlier in this batch used `new`'s idempotency key: `new` is answered
    /// with it (or the conflict is thrown). Otherwise the key is `new`'s from here on.
    mutating func reusesKeyFromEarlierInBatch(_ new: NewJob, key: String) throws -> Bool {
        let scoped = QueueKeyedIdempotency(creator: new.creatorID, key: key)
        guard let earlier = keys[scoped] else {
            keys[scoped] = new
            return false
        }
        try StoreArguments.checkReuse(of: key, fingerprint: earlier.requestFingerprint, by: new, original: earlier.id)
        let job = Job(queued: earlier, at: StoredRows.date(now))
        outcomes.append(.existing(job))
        reused[new.id] = job
        return true
    }

    /// Queues `new`.
    mutating func insert(_ new: NewJob) {
        ids.insert(new.id)
        inserted.append(new)
        outcomes.append(.created(Job(queued: new, at: StoredRows.date(now))))
    }
}
