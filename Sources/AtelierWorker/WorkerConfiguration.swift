public import AtelierCore
public import AtelierScheduler

/// How an in-process worker pool runs.
public struct WorkerConfiguration: Sendable {
    public var worker: WorkerID
    public var pool: PoolName
    /// Jobs run at once.
    public var slots: Int
    public var lease: LeasePolicy
    public var retry: RetryPolicy
    /// Longest idle wait before looking for work again even without a signal.
    public var idlePoll: Duration
    /// On graceful shutdown, running jobs get this long to finish before their leases are handed back.
    public var shutdownGrace: Duration
    /// Jobs that run shorter than this are leased one ahead: a slot acknowledges a job and
    /// fetches the one after next while the next one runs, so the round trip to the platform
    /// is not spent idle between short jobs. A job leased ahead that has waited this long (the
    /// job before it turned out long) is handed back. `.zero` turns leasing ahead off. Longer
    /// jobs are never leased ahead, so fair order among creators is decided as late as it can be.
    public var leaseAhead: Duration

    /// Jobs under 50 ms: a creator never notices a job that short decided one job early.
    public static let defaultLeaseAhead: Duration = .milliseconds(50)

    public init(worker: WorkerID, pool: PoolName, slots: Int = 2, lease: LeasePolicy = LeasePolicy(),
                retry: RetryPolicy = RetryPolicy(), idlePoll: Duration = .seconds(1), shutdownGrace: Duration = .seconds(10),
                leaseAhead: Duration = defaultLeaseAhead) {
        self.worker = worker
        self.pool = pool
        self.slots = max(1, slots)
        self.lease = lease
        self.retry = retry
        self.idlePoll = idlePoll
        self.shutdownGrace = shutdownGrace
        // A job held ahead is not renewed: it must be handed back long before its lease ends.
        self.leaseAhead = max(.zero, min(leaseAhead, .milliseconds(Int64(lease.duration * 1000 / 4))))
    }
}
