import AtelierCore
import AtelierStore
import Logging
import Synchronization
import Foundation

/// Carries one leased job from start to its report back to the store.
struct JobRunner<B: Backend> {
    let pool: WorkerPool<B>
    let lease: Lease

    /// Why the monitor stopped a running job.
    private enum Interruption {
        case cancelRequested
        case leaseLost
        case shutdown
    }

    /// What the slot must still do once the runner is done.
    enum Ending {
        /// The backend succeeded: hand its outputs back with `complete`.
        case succeeded([BackendOutput])
        /// The outcome was reported (or the job abandoned); nothing is left to do.
        case reported
    }

    private enum Verdict {
        case finished(Result<[BackendOutput], any Error>)
        case interrupted(Interruption)
        case monitorDone
    }

    private var logger: Logger {
        var logger = pool.logger
        logger[metadataKey: "job"] = "\(lease.job.id)"
        logger[metadataKey: "creator"] = "\(lease.job.creatorID)"
        return logger
    }

    func run() async -> Ending {
        let progress = ProgressCell(lease.job.progress)
        let source = pool.source
        let lease = self.lease
        let context = RunContext(reportProgress: { progress.set($0) }, sceneClips: { try await source.sceneClips(of: lease) })
        let backend = pool.backend
        let job = lease.job
        let verdict = await withTaskGroup(of: Verdict.self) { group in
            group.addTask {
                do {
                    return .finished(.success(try await backend.run(job, context: context)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask { await monitor(progress) }
            let first = await group.next()!
            group.cancelAll()
            if case .interrupted = first {
                // Wait for the backend to notice the cancellation before reporting.
                while let next = await group.next() { if case .finished = next { break } }
            }
            return first
        }
        return await report(verdict)
    }

    /// Renews the lease, forwards progress, and interrupts the job when it must stop.
    private func monitor(_ progress: ProgressCell) async -> Verdict {
        let policy = pool.configuration.lease
        var lastBeat = pool.clock.now
        var lastSentProgress = lease.job.progress
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            if Task.isCancelled { break }
            if pool.isPastGrace { return .interrupted(.shutdown) }
            let now = pool.clock.now
            let current = progress.value
            let isDue = now.timeIntervalSince(lastBeat) >= pool.source.heartbeatInterval(default: policy.heartbeatInterval)
            let hasNews = current - lastSentProgress >= 0.05 && now.timeIntervalSince(lastBeat) >= 0.5
            guard isDue || hasNews else { continue }
            do {
                switch try await pool.source.heartbeat(lease.token, progress: current) {
                case .renewed(_, let isCancelRequested):
                    if isCancelRequested { return .interrupted(.cancelRequested) }
                    lastBeat = now
                    lastSentProgress = current
                case .leaseLost:
                    return .interrupted(.leaseLost)
                }
            } catch {
                logger.warning("heartbeat failed; will retry", metadata: ["error": "\(error)"])
            }
        }
        return .monitorDone
    }

    private func report(_ verdict: Verdict) async -> Ending {
        let source = pool.source
        do {
            switch verdict {
            case .finished(.success(let outputs)):
                return .succeeded(outputs)
            case .finished(.failure(let error)):
                try await fail(because: error)
            case .interrupted(.cancelRequested):
                let error = JobError(code: "canceled", message: "cancelled at the creator's request")
                _ = try await source.fail(lease, error: error, isRetryable: false)
                logger.info("job cancelled while running")
            case .interrupted(.leaseLost):
                logger.warning("lease lost; abandoning the attempt")
            case .interrupted(.shutdown):
                _ = try await source.release(lease.token)
                logger.info("lease handed back at shutdown")
            case .monitorDone:
                break
            }
        } catch {
            // The lease will expire and the job will be retried; nothing is lost.
            logger.error("could not report the job's outcome", metadata: ["error": "\(error)"])
        }
        return .reported
    }

    /// Hands the outputs back and completes the job; returns the next leases fetched with it.
    /// Outputs that cannot be stored fail the attempt as retryable.
    func complete(_ outputs: [BackendOutput], thenLease next: WorkRequest) async -> [Lease] {
        do {
            let (outcome, leases) = try await pool.source.complete(lease, outputs: outputs, thenLease: next)
            if outcome == .completed {
                logger.info("job succeeded", metadata: ["artifacts": "\(outputs.count)"])
            } else {
                logger.warning("completion rejected: the lease was lost; this attempt's files were discarded")
            }
            return leases
        } catch {
            do {
                try await fail(because: BackendError(code: "storage_failed", message: "\(error)", isRetryable: true))
            } catch {
                // The lease will expire and the job will be retried; nothing is lost.
                logger.error("could not report the job's outcome", metadata: ["error": "\(error)"])
            }
            return []
        }
    }

    private func fail(because error: any Error) async throws {
        let failure: BackendError
        switch error {
        case let error as BackendError: failure = error
        case let error as ValidationError: failure = BackendError(code: "invalid_output", message: "\(error)", isRetryable: false)
        default: failure = BackendError(code: "backend_error", message: "\(error)", isRetryable: true)
        }
        let outcome = try await pool.source.fail(
            lease, error: JobError(code: failure.code, message: failure.message), isRetryable: failure.isRetryable
        )
        logger.warning("attempt failed", metadata: ["error": "\(failure)", "outcome": "\(outcome)"])
    }
}

/// The latest progress a backend reported, read by the lease monitor.
final class ProgressCell: Sendable {
    private let storage: Mutex<Double>

    init(_ initial: Double) { storage = Mutex(initial) }

    var value: Double { storage.withLock { $0 } }

    func set(_ fraction: Double) {
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
        storage.withLock { $0 = clamped }
    }
}
