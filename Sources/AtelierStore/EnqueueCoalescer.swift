public import AtelierCore
import Foundation
import Synchronization

/// Group commit for submissions: concurrent `enqueue` calls that arrive while a commit is in
/// flight are queued together in the next one.
///
/// Each `POST /v1/jobs` used to be its own transaction, and with `synchronous = FULL` every
/// transaction waits for its own fsync — 64 clients got ~1,900 jobs/s with a p99 of 0.6 s. The
/// store already takes batches; this feeds it one. A lone request is committed at once (no
/// timer, no added latency); under load the batch is whatever arrived during the previous
/// commit, up to `maximumBatch`.
///
/// One bad item does not fail its neighbours: when a batch is refused (an idempotency key
/// reused with another body, say), its items are retried one by one, so each caller gets the
/// outcome it would have had alone.
public final class EnqueueCoalescer: Sendable {
    private struct Pending: Sendable {
        let job: NewJob
        let continuation: CheckedContinuation<EnqueueOutcome, any Error>
    }

    private struct State: Sendable {
        var pending: [Pending] = []
        var isCommitting = false
    }

    private let store: any JobStore
    private let clock: any WallClock
    private let maximumBatch: Int
    private let state = Mutex(State())

    public init(store: any JobStore, clock: any WallClock, maximumBatch: Int = 512) {
        self.store = store
        self.clock = clock
        self.maximumBatch = max(1, maximumBatch)
    }

    /// Queues `job` in the next commit and returns its outcome once that commit is durable.
    public func enqueue(_ job: NewJob) async throws -> EnqueueOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let startsCommitting = state.withLock { state in
                state.pending.append(Pending(job: job, continuation: continuation))
                guard !state.isCommitting else { return false }
                state.isCommitting = true
                return true
            }
            if startsCommitting {
                Task { await self.commitUntilDrained() }
            }
        }
    }

    private func commitUntilDrained() async {
        while true {
            let batch: [Pending] = state.withLock { state in
                guard !state.pending.isEmpty else {
                    state.isCommitting = false
                    return []
                }
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            await commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) async {
        guard !batch.isEmpty else { return }
        do {
            let outcomes = try await store.enqueue(batch.map(\.job), now: clock.now)
            guard outcomes.count == batch.count else {
                throw StoreError(.invalidArgument, "the store answered \(outcomes.count) outcomes for \(batch.count) jobs")
            }
            for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(returning: outcome) }
        } catch let error as StoreError
            where batch.count > 1 && [.insufficientCredits, .quotaExceeded].contains(error.code) && error.creatorID != nil {
            // One creator short of credits or at a quota: the others' jobs go in as a batch
            // again, and only that creator's are tried one by one (so a creator at its limit
            // cannot turn everyone's submissions into single commits).
            let short = batch.filter { $0.job.creatorID == error.creatorID }
            await commit(batch.filter { $0.job.creatorID != error.creatorID })
            await commitOneByOne(short)
        } catch where batch.count > 1 {
            await commitOneByOne(batch)
        } catch {
            batch[0].continuation.resume(throwing: error)
        }
    }

    private func commitOneByOne(_ batch: [Pending]) async {
        for pending in batch {
            do {
                guard let outcome = try await store.enqueue([pending.job], now: clock.now).first else {
                    throw StoreError(.invalidArgument, "the store answered no outcome for job \(pending.job.id)")
                }
                pending.continuation.resume(returning: outcome)
            } catch {
                pending.continuation.resume(throwing: error)
            }
        }
    }
}
