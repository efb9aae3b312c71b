import AtelierCore

/// Checks every engine applies to what it is asked to store.
enum StoreArguments {
    static func check(_ job: NewJob) throws {
        guard job.cost >= 1 else { throw StoreError(.invalidArgument, "cost must be at least 1 credit") }
        guard job.maxAttempts >= 1 else { throw StoreError(.invalidArgument, "max attempts must be at least 1") }
    }

    /// A reused idempotency key must come with the same request.
    static func checkReuse(of key: String, fingerprint: String?, by new: NewJob, original: JobID) throws {
        guard fingerprint == new.requestFingerprint else {
            throw StoreError(
                .idempotencyConflict, "idempotency key \"\(key)\" was used for a different request (job \(original))",
                jobID: original)
        }
    }
}

/// One creator's queue in one pool.
struct QueueKey: Hashable {
    var pool: PoolName
    var creator: CreatorID
}

/// An idempotency key in its creator's namespace.
struct QueueKeyedIdempotency: Hashable {
    var creator: CreatorID
    var key: String
}
