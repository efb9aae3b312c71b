public import AtelierCore
public import AtelierStore
public import Foundation

/// The platform as a worker sees it: where leases come from and where outcomes go.
///
/// In-process workers talk to the store directly (`LocalWorkSource`); remote workers talk to
/// the server over HTTP. Both give a worker the same semantics: fenced leases, heartbeats that
/// carry progress and bring back cancellation, completion with artifacts, failure with a
/// retryable flag, and handing a lease back.
public protocol WorkSource: Sendable {
    /// Leases up to `request.limit` jobs, waiting up to `wait` for work to appear; empty when none did.
    func lease(_ request: WorkRequest, wait: Duration) async throws -> [Lease]
    /// Renews the lease and records progress; tells whether the job's cancellation was requested.
    func heartbeat(_ token: LeaseToken, progress: Double) async throws -> HeartbeatOutcome
    /// Stores the outputs as the attempt's artifacts and completes the job, then leases the
    /// next jobs of `next` (when its limit is above zero) in the same round trip.
    /// Throws when the outputs could not be stored; the job is then still leased.
    func complete(_ lease: Lease, outputs: [BackendOutput], thenLease next: WorkRequest) async throws
        -> (outcome: CompletionOutcome, leases: [Lease])
    /// Ends the attempt in failure; a retryable one is tried again after the platform's backoff.
    func fail(_ lease: Lease, error: JobError, isRetryable: Bool) async throws -> FailureOutcome
    /// Hands an unfinished lease back: the job is queued again and the attempt does not count.
    func release(_ token: LeaseToken) async throws -> Bool
    /// For a film's compose step: the clips its scene jobs made, in scene order.
    func sceneClips(of lease: Lease) async throws -> [Data]
    /// Ends every `lease` call of `pool` that is waiting, so a draining worker stops promptly.
    func interruptWaits(pool: PoolName)
    /// How often to renew leases: the worker's own policy unless the source knows the
    /// platform grants shorter leases.
    func heartbeatInterval(default interval: TimeInterval) -> TimeInterval
}

extension WorkSource {
    public func heartbeatInterval(default interval: TimeInterval) -> TimeInterval { interval }
}

/// What a worker asks for when it has free slots.
public struct WorkRequest: Sendable, Hashable {
    public var pool: PoolName
    /// Only jobs for these models are leased.
    public var models: Set<ModelID>
    public var limit: Int

    public init(pool: PoolName, models: Set<ModelID>, limit: Int = 1) {
        self.pool = pool
        self.models = models
        self.limit = limit
    }
}
