import AtelierCore
import AtelierBlobs
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
        /// The job succeeded and its artifacts are stored: acknowledge it.
        case succeeded(Completion, stored: [BlobKey])
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
        let context = RunContext { progress.set($0) }
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
            let isDue = now.timeIntervalSince(lastBeat) >= policy.heartbeatInterval
            let hasNews = current - lastSentProgress >= 0.05 && now.timeIntervalSince(lastBeat) >= 0.5
            guard isDue || hasNews else { continue }
            do {
                switch try await pool.store.heartbeat(lease.token, progress: current, leaseDuration: policy.duration, now: now) {
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
        let store = pool.store
        do {
            switch verdict {
            case .finished(.success(let outputs)):
                return try await storeArtifacts(outputs)
            case .finished(.failure(let error)):
                try await fail(because: error)
            case .interrupted(.cancelRequested):
                let error = JobError(code: "canceled", message: "cancelled at the creator's request")
                _ = try await store.fail(lease.token, error: error, retryAt: nil, now: pool.clock.now)
                logger.info("job cancelled while running")
            case .interrupted(.leaseLost):
                logger.warning("lease lost; abandoning the attempt")
            case .interrupted(.shutdown):
                _ = try await store.release(lease.token, now: pool.clock.now)
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

    /// Stores the outputs as artifacts; the slot then acknowledges the job with them.
    private func storeArtifacts(_ outputs: [BackendOutput]) async throws -> Ending {
        var stored: [BlobKey] = []
        var artifacts: [Artifact] = []
        do {
            for output in outputs {
                // The fence in the object name keeps a zombie attempt from overwriting the bytes
                // of the attempt that completes.
                let key = try BlobKey(creator: lease.job.creatorID, job: lease.job.id,
                                      name: "a\(lease.token.fence)-\(output.name)")
                let blob = try await pool.blobs.put(output.data, at: key)
                stored.append(key)
                artifacts.append(Artifact(
                    id: pool.ids.artifactID(), jobID: lease.job.id, name: output.name, contentType: output.contentType,
                    byteCount: blob.byteCount, sha256: blob.sha256, storageKey: key.rawValue, createdAt: pool.clock.now
                ))
            }
        } catch {
            await discard(stored)
            try await fail(because: BackendError(code: "storage_failed", message: "\(error)", isRetryable: true))
            return .reported
        }
        return .succeeded(Completion(token: lease.token, artifacts: artifacts), stored: stored)
    }

    /// Logs the acknowledgement; a refused one (the lease was lost) discards this attempt's files.
    func acknowledged(_ outcome: CompletionOutcome, stored: [BlobKey]) async {
        if outcome == .completed {
            logger.info("job succeeded", metadata: ["artifacts": "\(stored.count)"])
        } else {
            logger.warning("completion rejected: the lease was lost; discarding this attempt's files")
            await discard(stored)
        }
    }

    private func fail(because error: any Error) async throws {
        let failure: BackendError
        switch error {
        case let error as BackendError: failure = error
        case let error as ValidationError: failure = BackendError(code: "invalid_output", message: "\(error)", isRetryable: false)
        default: failure = BackendError(code: "backend_error", message: "\(error)", isRetryable: true)
        }
        let now = pool.clock.now
        var random = SystemRandomNumberGenerator()
        let retryAt = failure.isRetryable
            ? now.addingTimeInterval(pool.configuration.retry.delay(afterAttempt: lease.job.attempt, using: &random))
            : nil
        let outcome = try await pool.store.fail(
            lease.token, error: JobError(code: failure.code, message: failure.message), retryAt: retryAt, now: now
        )
        logger.warning("attempt failed", metadata: ["error": "\(failure)", "outcome": "\(outcome)"])
    }

    private func discard(_ keys: [BlobKey]) async {
        for key in keys { try? await pool.blobs.delete(key) }
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
