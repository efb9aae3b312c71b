import AtelierCore
public import Foundation

/// How quotas are counted, the same on both engines. Submissions are checked in the
/// transaction that queues them, after their reservation has locked the creator's account (so
/// two submissions of one creator are counted one after the other), with the batch included:
///
/// - `max_queued_jobs`: the creator's jobs waiting to be dispatched — ready in any pool (its
///   fair-queue rows' `ready` counts) or backing off before a retry; a film's scene jobs count
///   one each, a film waiting for them does not;
/// - `max_daily_credits`: credits captured since 00:00 UTC (`creators.spent_today`, kept with
///   every capture) plus everything the creator's open jobs hold (a reservation is spending not
///   yet settled); resets at the next 00:00 UTC;
/// - `max_running_jobs` is kept by the lease planners, which skip a creator at its cap; running
///   jobs are counted through the lease-expiry index, whose entries are exactly the running jobs.
///
/// None of them adds an index or a write to the path every job takes.
public enum QuotaRules {
    /// Days since 1970-01-01 UTC.
    static func dayNumber(of now: Date) -> Int64 {
        Int64((now.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// The start of `now`'s UTC day and the start of the next.
    public static func day(of now: Date) -> (start: Date, next: Date) {
        let seconds = now.timeIntervalSince1970
        let start = (seconds / 86_400).rounded(.down) * 86_400
        return (Date(timeIntervalSince1970: start), Date(timeIntervalSince1970: start + 86_400))
    }

    /// Throws `quotaExceeded` when the creator's counts, with the batch included, pass a quota.
    static func check(_ creator: CreatorID, quotas: Quotas, waiting: Int?, dailySpend: Int?, now: Date) throws {
        // `waiting` counts jobs: a batch is refused when it would pass the cap.
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
