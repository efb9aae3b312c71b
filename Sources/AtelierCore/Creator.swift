public import Foundation

/// A person or team that submits work. `weight` is its share of the GPUs relative to others.
public struct Creator: Sendable, Hashable, Identifiable {
    public var id: CreatorID
    public var name: String
    /// At least 1. A creator of weight 2 receives twice the service of one of weight 1 when both wait.
    public var weight: Int
    /// The creator's credit balance: grants and adjustments less captures. At creation, the
    /// opening grant.
    public var credits: Int
    /// Credits held for the creator's open jobs.
    public var reservedCredits: Int
    /// This creator's own limits; nil values follow the platform's defaults.
    public var quotas: Quotas
    public var createdAt: Date

    public init(id: CreatorID, name: String, weight: Int, credits: Int = 0, reservedCredits: Int = 0,
                quotas: Quotas = .unlimited, createdAt: Date) {
        self.id = id
        self.name = name
        self.weight = weight
        self.credits = credits
        self.reservedCredits = reservedCredits
        self.quotas = quotas
        self.createdAt = createdAt
    }

    /// The creator's credits as a creator sees them.
    public var account: CreditAccount {
        CreditAccount(balance: credits, reserved: reservedCredits)
    }

    /// The largest weight a creator may have; keeps fair-share arithmetic far from overflow.
    public static let maximumWeight = 10_000
    /// The largest credit grant; far below any integer overflow in cost arithmetic.
    public static let maximumCredits = 1_000_000_000_000

    /// Checks the rules a creator must satisfy before it is stored.
    public static func validate(name: String, weight: Int, credits: Int = 0) throws(ValidationError) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed == name, name.count <= 100 else {
            throw ValidationError(field: "name", message: "must be 1 to 100 characters without leading or trailing spaces")
        }
        guard (1...maximumWeight).contains(weight) else {
            throw ValidationError(field: "weight", message: "must be an integer from 1 to \(maximumWeight)")
        }
        guard (0...maximumCredits).contains(credits) else {
            throw ValidationError(field: "credits", message: "must be an integer from 0 to \(maximumCredits)")
        }
    }
}
