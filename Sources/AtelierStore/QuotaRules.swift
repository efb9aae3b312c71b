import AtelierCore
public import Foundation

/// How quotas are counted, the same on both engines. Submissions are checked in the
/// transaction that queues them, after their reservation has locked the creator's account (so
/// two submissions of one creator are counted one after the other), with the batch included:
///
/// - `max_queued_jobs`: the creator's top-level jobs queued or waiting for a retry (a film
///   counts once; it leaves the count when it starts, like any job);
/// - `max_daily_credits`: credits captured since 00:00 UTC plus everything the creator's open
///   jobs hold (a reservation is spending not yet settled); resets at the next 00:00 UTC;
/// - `max_running_jobs` is kept by the lease planners, which skip a creator at its cap.
public enum QuotaRules {
    /// The start of `now`'s UTC day and the start of the next.
    public static func day(of now: Date) -> (start: Date, next: Date) {
        let seconds = now.timeIntervalSince1970
        let start = (seconds / 86_400).rounded(.down) * 86_400
        return (Date(timeIntervalSince1970: start), Date(timeIntervalSince1970: start + 86_400))
    }

    /// Throws `quotaExceeded` when the creator's counts, with the batch included, pass a quota.
    static func check(_ creator: CreatorID, quotas: Quotas, waiting: Int?, dailySpend: Int?, now: Date) throws {
        if let limit = quotas.maxQueuedJobs, let waiting, waiting > limit {
            throw hit(creator, Quotas.Name.maxQueuedJobs, limit: limit, resetsAt: nil,
                      "creator \(creator) may have \(limit) jobs waiting to start; this would make \(waiting)")
        }
        if let limit = quotas.maxDailyCredits, let dailySpend, dailySpend > limit {
            throw hit(creator, Quotas.Name.maxDailyCredits, limit: limit, resetsAt: day(of: now).next,
                      "creator \(creator) may spend \(limit) credits a day; this would make \(dailySpend) today")
        }
    }

    private static func hit(_ creator: CreatorID, _ name: String, limit: Int, resetsAt: Date?, _ message: String) -> StoreError {
        var error = StoreError(.quotaExceeded, message)
        error.creatorID = creator
        error.quota = QuotaHit(name: name, limit: limit, resetsAt: resetsAt)
        return error
    }
}
