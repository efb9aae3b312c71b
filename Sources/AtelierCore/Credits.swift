public import Foundation

/// A creator's credits: what it holds, what its open jobs hold, and what it may still spend.
public struct CreditAccount: Sendable, Hashable {
    /// Grants and adjustments less captures.
    public var balance: Int
    /// Held for jobs that have not ended.
    public var reserved: Int

    public init(balance: Int, reserved: Int) {
        self.balance = balance
        self.reserved = reserved
    }

    /// What a new job may reserve: never negative while the store keeps its invariants.
    public var available: Int { balance - reserved }
}

/// One line of a creator's append-only credit log. The account is derived from the log:
/// balance = grants + adjustments − captures; reserved = reserves − captures − releases.
public struct CreditTransaction: Sendable, Hashable, Identifiable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Credits given to the creator (positive amount).
        case grant
        /// Credits held for a job when it is queued.
        case reserve
        /// Credits of a job's reservation spent when it ended.
        case capture
        /// Credits of a job's reservation handed back when it ended.
        case release
        /// An operator's correction; negative amounts take credits away (never below what is held).
        case adjustment
    }

    /// Grows with every transaction; pages are cut by it.
    public var id: Int64
    public var creatorID: CreatorID
    public var kind: Kind
    /// Credits moved; negative only for an adjustment that takes credits away.
    public var amount: Int
    public var jobID: JobID?
    /// Who caused it: "admin", the creator's id for a reservation, "atelier" for a job's end.
    public var actor: String
    public var reason: String?
    public var createdAt: Date

    public init(id: Int64, creatorID: CreatorID, kind: Kind, amount: Int, jobID: JobID?, actor: String,
                reason: String?, createdAt: Date) {
        self.id = id
        self.creatorID = creatorID
        self.kind = kind
        self.amount = amount
        self.jobID = jobID
        self.actor = actor
        self.reason = reason
        self.createdAt = createdAt
    }

    /// Who caused transactions the platform makes by itself (a job's capture or release).
    public static let platformActor = "atelier"
    /// The longest reason kept.
    public static let maximumReasonLength = 500
}

/// An operator's grant (positive amount) or adjustment (negative amount).
public struct CreditChange: Sendable, Hashable {
    public var creatorID: CreatorID
    public var amount: Int
    public var actor: String
    public var reason: String

    public init(creatorID: CreatorID, amount: Int, actor: String, reason: String) {
        self.creatorID = creatorID
        self.amount = amount
        self.actor = actor
        self.reason = reason
    }

    /// Checks the rules a change must satisfy before it reaches the store.
    public static func validate(amount: Int, reason: String) throws(ValidationError) {
        guard amount != 0, abs(amount) <= Creator.maximumCredits else {
            throw ValidationError(field: "amount", message: "must be a non-zero integer from -\(Creator.maximumCredits) to \(Creator.maximumCredits)")
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, reason.count <= CreditTransaction.maximumReasonLength else {
            throw ValidationError(field: "reason", message: "must say why, in 1 to \(CreditTransaction.maximumReasonLength) characters")
        }
    }
}
