public import AtelierCore
public import Foundation

/// A store operation that could not be carried out for a reason the caller can act on.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, growable set of reasons.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case idempotencyConflict = "idempotency_conflict"
            case duplicateName = "duplicate_name"
            case unknownCreator = "unknown_creator"
            case unknownParent = "unknown_parent"
            case invalidArgument = "invalid_argument"
            case unavailable = "unavailable"
            case corrupt = "corrupt"
            case insufficientCredits = "insufficient_credits"
            case quotaExceeded = "quota_exceeded"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public var description: String { base.rawValue }

        /// The idempotency key was used before with a different request.
        public static let idempotencyConflict = Code(.idempotencyConflict)
        public static let duplicateName = Code(.duplicateName)
        public static let unknownCreator = Code(.unknownCreator)
        public static let unknownParent = Code(.unknownParent)
        public static let invalidArgument = Code(.invalidArgument)
        /// The database cannot be reached right now; nothing was changed. Try again later.
        public static let unavailable = Code(.unavailable)
        /// Stored data contradicts itself (e.g. a ledger hash is missing); an operator must look.
        public static let corrupt = Code(.corrupt)
        /// The creator's available credits do not cover what was asked; nothing was changed.
        public static let insufficientCredits = Code(.insufficientCredits)
        /// A creator's quota (`quota` says which) does not allow it; nothing was changed.
        public static let quotaExceeded = Code(.quotaExceeded)
    }

    public var code: Code
    public var message: String
    /// The job the error concerns, e.g. the original job of a conflicting idempotency key.
    public var jobID: JobID?
    /// For `insufficientCredits`: what the creator had available, and what was asked of it.
    public var credits: CreditShortfall?
    /// For `insufficientCredits` and `quotaExceeded`: whose credits or quota fell short.
    public var creatorID: CreatorID?
    /// For `quotaExceeded`: which quota.
    public var quota: QuotaHit?

    public init(_ code: Code, _ message: String, jobID: JobID? = nil) {
        self.code = code
        self.message = message
        self.jobID = jobID
    }

    /// The creator's available credits do not cover `required`.
    public static func insufficientCredits(_ creator: CreatorID, available: Int, required: Int) -> StoreError {
        var error = StoreError(.insufficientCredits,
                               "creator \(creator) has \(available) credits available; this needs \(required)")
        error.credits = CreditShortfall(available: available, required: required)
        error.creatorID = creator
        return error
    }

    public var description: String { "\(code): \(message)" }
}

/// A quota that refused a request: its name (as the API spells it), its limit, and when it
/// frees up by itself (nil when it frees as the creator's own jobs progress).
public struct QuotaHit: Sendable, Hashable {
    public var name: String
    public var limit: Int
    public var resetsAt: Date?

    public init(name: String, limit: Int, resetsAt: Date?) {
        self.name = name
        self.limit = limit
        self.resetsAt = resetsAt
    }
}

/// What a creator had available and what a request needed of it.
public struct CreditShortfall: Sendable, Hashable {
    public var available: Int
    public var required: Int

    public init(available: Int, required: Int) {
        self.available = available
        self.required = required
    }
}
