public import AtelierCore
public import AtelierStore
public import Foundation
import Synchronization

/// The store as the server uses it: every call goes through to the engine, and every change
/// to a job rings that job's change signal (for server-sent events) and updates the metrics.
///
/// Workers in the process and workers over HTTP both reach the store through here, so events
/// and metrics see every transition whichever kind of worker made it.
public final class ObservedJobStore: JobStore {
    let base: any JobStore
    let metrics: APIMetrics
    /// Rung with a job's id whenever the job may have changed.
    public let jobChanges = ChangeSignal<JobID>(watchedKeysOnly: true)
    /// When each running attempt was leased, for the run-time histogram.
    private let running = Mutex<[JobID: (pool: PoolName, since: Date)]>([:])

    public init(_ base: any JobStore, metrics: APIMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public var workSignal: WorkSignal { base.workSignal }
    public var writeGeneration: WriteGeneration? { base.writeGeneration }
    public var ledger: any LedgerStore { base.ledger }

    // MARK: Pass-through reads

    public func createCreator(_ creator: Creator, keyHash: String?) async throws {
        try await base.createCreator(creator, keyHash: keyHash)
    }
    public func creator(id: CreatorID) async throws -> Creator? { try await base.creator(id: id) }
    public func creators() async throws -> [Creator] { try await base.creators() }
    public func createWorker(_ worker: Worker, keyHash: String) async throws {
        try await base.createWorker(worker, keyHash: keyHash)
    }
    public func workers() async throws -> [Worker] { try await base.workers() }
    public func principal(keyHash: String) async throws -> Principal? { try await base.principal(keyHash: keyHash) }
    public func job(id: JobID, scope: AccessScope) async throws -> Job? { try await base.job(id: id, scope: scope) }
    public func jobs(_ query: JobQuery) async throws -> JobPage { try await base.jobs(query) }
    public func artifacts(of job: JobID) async throws -> [Artifact] { try await base.artifacts(of: job) }
    public func artifact(id: ArtifactID, scope: AccessScope) async throws -> Artifact? {
        try await base.artifact(id: id, scope: scope)
    }
    public func createUpload(_ upload: Upload) async throws { try await base.createUpload(upload) }
    public func upload(id: UploadID, scope: AccessScope) async throws -> Upload? { try await base.upload(id: id, scope: scope) }
    public func children(of parent: JobID) async throws -> [Job] { try await base.children(of: parent) }
    public func queueSummary(pool: PoolName) async throws -> [CreatorQueueSummary] { try await base.queueSummary(pool: pool) }
    public func performHousekeeping() async throws { try await base.performHousekeeping() }
    public func shutdown() async { await base.shutdown() }

    // MARK: Observed changes

    public func adjustCredits(_ change: CreditChange, now: Date) async throws -> CreditAccount {
        try await base.adjustCredits(change, now: now)
    }

    public func creditTransactions(_ query: CreditTransactionQuery) async throws -> CreditTransactionPage {
        try await base.creditTransactions(query)
    }

    public func creditsSpentToday(by creator: CreatorID, now: Date) async throws -> Int {
        try await base.creditsSpentToday(by: creator, now: now)
    }

    public var defaultQuotas: Quotas { base.defaultQuotas }

    public func setQuotas(_ quotas: Quotas, of creator: CreatorID) async throws -> Creator {
        try await base.setQuotas(quotas, of: creator)
    }

    public func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueOutcome] {
        try await base.enqueue(jobs, now: now)
    }

    public func leaseJobs(_ request: LeaseRequest, now: Date) async throws -> [Lease] {
        let leases = try await base.leaseJobs(request, now: now)
        leased(leases, now: now)
        return leases
    }

    public func heartbeat(_ token: LeaseToken, progress: Double?, leaseDuration: TimeInterval, now: Date) async throws
        -> HeartbeatOutcome {
        let outcome = try await base.heartbeat(token, progress: progress, leaseDuration: leaseDuration, now: now)
        if progress != nil { jobChanges.ring(token.jobID) }
        return outcome
    }

    public func complete(_ completions: [Completion], now: Date) async throws -> [CompletionOutcome] {
        let outcomes = try await base.complete(completions, now: now)
        completed(completions, outcomes, now: now)
        return outcomes
    }

    public func complete(_ completions: [Completion], thenLease next: LeaseRequest, now: Date) async throws
        -> (outcomes: [CompletionOutcome], leases: [Lease]) {
        let result = try await base.complete(completions, thenLease: next, now: now)
        completed(completions, result.outcomes, now: now)
        leased(result.leases, now: now)
        return result
    }

    public func fail(_ token: LeaseToken, error: JobError, retryAt: Date?, now: Date) async throws -> FailureOutcome {
        let outcome = try await base.fail(token, error: error, retryAt: retryAt, now: now)
        if outcome != .leaseLost {
            let entry = ended(token.jobID)
            if let entry {
                switch outcome {
                case .retrying: metrics.recordRetry(pool: entry.pool)
                case .failed: metrics.recordFinished(pool: entry.pool, status: .failed, runTime: now.timeIntervalSince(entry.since))
                case .canceled: metrics.recordFinished(pool: entry.pool, status: .canceled, runTime: now.timeIntervalSince(entry.since))
                case .leaseLost: break
                }
            }
            jobChanges.ring(token.jobID)
        }
        return outcome
    }

    public func release(_ token: LeaseToken, now: Date) async throws -> Bool {
        let released = try await base.release(token, now: now)
        if released {
            _ = ended(token.jobID)
            jobChanges.ring(token.jobID)
        }
        return released
    }

    public func cancel(id: JobID, scope: AccessScope, now: Date) async throws -> CancelOutcome {
        let outcome = try await base.cancel(id: id, scope: scope, now: now)
        switch outcome {
        case .canceled(let job):
            metrics.recordFinished(pool: job.pool, status: .canceled, runTime: nil)
            jobChanges.ring(id)
        case .cancelRequested:
            jobChanges.ring(id)
        case .alreadyFinished, .notFound:
            break
        }
        return outcome
    }

    public func reclaimExpiredLeases(now: Date) async throws -> [ReclaimedLease] {
        let reclaimed = try await base.reclaimExpiredLeases(now: now)
        if !reclaimed.isEmpty {
            metrics.recordLeaseExpiries(reclaimed.count)
            for lease in reclaimed {
                let entry = ended(lease.jobID)
                if let entry {
                    if lease.status == .queued {
                        metrics.recordRetry(pool: entry.pool)
                    } else {
                        metrics.recordFinished(pool: entry.pool, status: lease.status, runTime: now.timeIntervalSince(entry.since))
                    }
                }
                jobChanges.ring(lease.jobID)
            }
        }
        return reclaimed
    }

    public func promoteDueRetries(now: Date) async throws -> Int {
        try await base.promoteDueRetries(now: now)
    }

    // MARK: Bookkeeping

    private func leased(_ leases: [Lease], now: Date) {
        guard !leases.isEmpty else { return }
        running.withLock { running in
            for lease in leases { running[lease.job.id] = (lease.job.pool, now) }
        }
        for lease in leases {
            metrics.recordLeased(pool: lease.job.pool, queueWait: now.timeIntervalSince(lease.job.availableAt))
            jobChanges.ring(lease.job.id)
        }
    }

    private func completed(_ completions: [Completion], _ outcomes: [CompletionOutcome], now: Date) {
        for (completion, outcome) in zip(completions, outcomes) where outcome == .completed {
            if let entry = ended(completion.token.jobID) {
                metrics.recordFinished(pool: entry.pool, status: .succeeded, runTime: now.timeIntervalSince(entry.since))
            }
            jobChanges.ring(completion.token.jobID)
        }
    }

    private func ended(_ job: JobID) -> (pool: PoolName, since: Date)? {
        running.withLock { $0.removeValue(forKey: job) }
    }
}
