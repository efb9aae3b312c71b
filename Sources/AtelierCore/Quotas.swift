/// Limits on one creator's use of the platform. Each is optional: nil means no limit (or, in a
/// creator's overrides, "the platform's default").
public struct Quotas: Sendable, Hashable {
    /// Submissions that have not started yet (top-level jobs queued or waiting for a retry).
    public var maxQueuedJobs: Int?
    /// Jobs running at once, in all pools; the scheduler skips a creator at its cap.
    public var maxRunningJobs: Int?
    /// Credits spent per UTC day: captured today plus what open jobs hold.
    public var maxDailyCredits: Int?

    public init(maxQueuedJobs: Int? = nil, maxRunningJobs: Int? = nil, maxDailyCredits: Int? = nil) {
        self.maxQueuedJobs = maxQueuedJobs
        self.maxRunningJobs = maxRunningJobs
        self.maxDailyCredits = maxDailyCredits
    }

    public static let unlimited = Quotas()

    /// These defaults with `overrides` applied: an override given wins.
    public func overridden(by overrides: Quotas) -> Quotas {
        Quotas(maxQueuedJobs: overrides.maxQueuedJobs ?? maxQueuedJobs,
               maxRunningJobs: overrides.maxRunningJobs ?? maxRunningJobs,
               maxDailyCredits: overrides.maxDailyCredits ?? maxDailyCredits)
    }

    /// Checks the rules quotas must satisfy before they are stored.
    public static func validate(_ quotas: Quotas) throws(ValidationError) {
        for (field, value, least) in [("max_queued_jobs", quotas.maxQueuedJobs, 0), ("max_running_jobs", quotas.maxRunningJobs, 1),
                                      ("max_daily_credits", quotas.maxDailyCredits, 0)] {
            if let value, !(least...Creator.maximumCredits).contains(value) {
                throw ValidationError(field: "quotas.\(field)", message: "must be an integer from \(least) to \(Creator.maximumCredits), or null for the platform's default")
            }
        }
    }
}

extension Quotas {
    /// The quotas' names as the API and errors spell them.
    public enum Name {
        public static let maxQueuedJobs = "max_queued_jobs"
        public static let maxRunningJobs = "max_running_jobs"
        public static let maxDailyCredits = "max_daily_credits"
    }
}
