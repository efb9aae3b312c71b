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

    public init(worker: WorkerID, pool: PoolName, slots: Int = 2, lease: LeasePolicy = LeasePolicy(),
                retry: RetryPolicy = RetryPolicy(), idlePoll: Duration = .seconds(1), shutdownGrace: Duration = .seconds(10)) {
        self.worker = worker
        self.pool = pool
        self.slots = max(1, slots)
        self.lease = lease
        self.retry = retry
        self.idlePoll = idlePoll
        self.shutdownGrace = shutdownGrace
    }
}
