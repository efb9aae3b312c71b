import AtelierCore

/// Checks every engine applies to what it is asked to store.
enum StoreArguments {
    static func check(_ job: NewJob) throws {
        guard job.cost >= 1 else { throw StoreError(.invalidArgument, "cost must be at least 1 credit") }
        guard job.maxAttempts >= 1 else { throw StoreError(.invalidArgument, "max attempts must be at least 1") }
    }

    /// The largest page a listing returns, whatever was asked.
    static func pageLimit(_ asked: Int) -> Int { max(1, min(asked, 500)) }

    /// A grant or adjustment must be valid, and an adjustment may not take away credits that
    /// are spent or held: the account stays at or above what its open jobs hold.
    static func check(_ change: CreditChange, against account: CreditAccount) throws {
        do {
            try CreditChange.validate(amount: change.amount, reason: change.reason)
        } catch {
            throw StoreError(.invalidArgument, error.description)
        }
        guard account.available + change.amount >= 0 else {
            throw StoreError.insufficientCredits(change.creatorID, available: account.available, required: -change.amount)
        }
        guard account.balance + change.amount <= Creator.maximumCredits else {
            throw StoreError(.invalidArgument, "the balance may not exceed \(Creator.maximumCredits) credits")
        }
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
