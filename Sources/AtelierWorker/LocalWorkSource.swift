public import AtelierCore
public import AtelierBlobs
public import AtelierScheduler
public import AtelierStore
public import Foundation

/// The work source of workers that run inside the server process: the store and blob store,
/// called directly. The HTTP worker endpoints use it too, so remote and local workers share
/// one implementation of the worker semantics.
public struct LocalWorkSource: WorkSource {
    public let store: any JobStore
    public let blobs: any BlobStore
    public let worker: WorkerID
    public let lease: LeasePolicy
    public let retry: RetryPolicy
    let clock: any WallClock
    let ids: IDGenerator

    public init(store: any JobStore, blobs: any BlobStore, worker: WorkerID, lease: LeasePolicy = LeasePolicy(),
                retry: RetryPolicy = RetryPolicy(), clock: any WallClock) {
        self.store = store
        self.blobs = blobs
        self.worker = worker
        self.lease = lease
        self.retry = retry
        self.clock = clock
        self.ids = IDGenerator(clock: clock)
    }

    func leaseRequest(_ request: WorkRequest) -> LeaseRequest {
        LeaseRequest(pool: request.pool, worker: worker, models: request.models, limit: request.limit,
                     leaseDuration: lease.duration)
    }

    public func lease(_ request: WorkRequest, wait: Duration) async throws -> [Lease] {
        // Take the ticket before looking, so work queued in between rings it.
        let ticket = store.workSignal.ticket(for: request.pool)
        let leases = try await store.leaseJobs(leaseRequest(request), now: clock.now)
        if !leases.isEmpty || wait <= .zero || Task.isCancelled { return leases }
        // Rung (work may be ready, or the waiters are wanted back) or timed out: look once more.
        await store.workSignal.wait(ticket, timeout: wait)
        if Task.isCancelled { return [] }
        return try await store.leaseJobs(leaseRequest(request), now: clock.now)
    }

    public func heartbeat(_ token: LeaseToken, progress: Double) async throws -> HeartbeatOutcome {
        try await store.heartbeat(token, progress: progress, leaseDuration: lease.duration, now: clock.now)
    }

    public func complete(_ lease: Lease, outputs: [BackendOutput], thenLease next: WorkRequest) async throws
        -> (outcome: CompletionOutcome, leases: [Lease]) {
        var stored: [BlobKey] = []
        var artifacts: [Artifact] = []
        do {
            for output in outputs {
                let key = try BlobKey.attemptOutput(creator: lease.job.creatorID, job: lease.job.id,
                                                    fence: lease.token.fence, name: output.name)
                let blob = try await blobs.put(output.data, at: key)
                stored.append(key)
                artifacts.append(Artifact(
                    id: ids.artifactID(), jobID: lease.job.id, name: output.name, contentType: output.contentType,
                    byteCount: blob.byteCount, sha256: blob.sha256, storageKey: key.rawValue, createdAt: clock.now
                ))
            }
        } catch {
            await discard(stored)
            throw error
        }
        let (outcomes, leases) = try await store.complete(
            [Completion(token: lease.token, artifacts: artifacts)], thenLease: leaseRequest(next), now: clock.now
        )
        let outcome = outcomes.first ?? .leaseLost
        // A refused completion (the lease was lost) leaves this attempt's files orphaned.
        if outcome != .completed { await discard(stored) }
        return (outcome, leases)
    }

    public func fail(_ lease: Lease, error: JobError, isRetryable: Bool) async throws -> FailureOutcome {
        let now = clock.now
        var random = SystemRandomNumberGenerator()
        let retryAt = isRetryable
            ? now.addingTimeInterval(retry.delay(afterAttempt: lease.job.attempt, using: &random))
            : nil
        return try await store.fail(lease.token, error: error, retryAt: retryAt, now: now)
    }

    public func release(_ token: LeaseToken) async throws -> Bool {
        try await store.release(token, now: clock.now)
    }

    public func sceneClips(of lease: Lease) async throws -> [Data] {
        var clips: [Data] = []
        for (_, artifact) in try await SceneClips.artifacts(of: lease.job, store: store) {
            guard let key = BlobKey(rawValue: artifact.storageKey) else {
                throw BackendError(code: "scene_clip_missing", message: "scene clip \(artifact.id) has no valid storage key",
                                   isRetryable: false)
            }
            clips.append(try await blobs.get(key))
        }
        return clips
    }

    public func interruptWaits(pool: PoolName) {
        store.workSignal.ring(pool)
    }

    private func discard(_ keys: [BlobKey]) async {
        for key in keys { try? await blobs.delete(key) }
    }
}
