public import AtelierCore
public import AtelierBlobs
public import AtelierStore
public import Logging
public import ServiceLifecycle
import Synchronization
import Foundation

/// Runs jobs of one pool on `slots` concurrent slots.
///
/// Each slot leases a job from its work source (waiting for work rather than polling), runs it
/// on the backend while a monitor renews the lease and forwards progress, then hands the
/// outputs back and completes the job — or fails, cancels, or hands the lease back. The source
/// is the store itself for in-process workers and the server for remote ones. On graceful
/// shutdown slots stop leasing, running jobs get `shutdownGrace` to finish, and whatever is
/// still running then is released to the queue with its attempt not counted.
public final class WorkerPool<B: Backend>: Service {
    let source: any WorkSource
    let backend: B
    let configuration: WorkerConfiguration
    let clock: any WallClock
    let logger: Logger
    private let draining = Mutex<Date?>(nil)

    public init(source: any WorkSource, backend: B, configuration: WorkerConfiguration,
                clock: any WallClock, logger: Logger = Logger(label: "atelier.worker")) {
        self.source = source
        self.backend = backend
        self.configuration = configuration
        self.clock = clock
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.worker)"
        logger[metadataKey: "pool"] = "\(configuration.pool)"
        self.logger = logger
    }

    /// An in-process pool working straight from the store and blob store.
    public convenience init(store: any JobStore, blobs: any BlobStore, backend: B, configuration: WorkerConfiguration,
                            clock: any WallClock, logger: Logger = Logger(label: "atelier.worker")) {
        let source = LocalWorkSource(store: store, blobs: blobs, worker: configuration.worker,
                                     lease: configuration.lease, retry: configuration.retry, clock: clock)
        self.init(source: source, backend: backend, configuration: configuration, clock: clock, logger: logger)
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for slot in 0..<configuration.slots {
                    group.addTask { await self.runSlot(slot) }
                }
            }
        } onGracefulShutdown: {
            self.beginDraining()
        }
    }

    /// Stops leasing; running jobs are released once the grace period is over.
    public func beginDraining() {
        let grace = configuration.shutdownGrace.components
        let seconds = Double(grace.seconds) + Double(grace.attoseconds) / 1e18
        draining.withLock { deadline in
            if deadline == nil { deadline = clock.now.addingTimeInterval(seconds) }
        }
        source.interruptWaits(pool: configuration.pool)
    }

    var isDraining: Bool { draining.withLock { $0 != nil } }

    /// Whether running jobs must now be handed back.
    var isPastGrace: Bool { draining.withLock { $0.map { clock.now >= $0 } ?? false } }

    private func runSlot(_ slot: Int) async {
        let request = WorkRequest(pool: configuration.pool, models: backend.models, limit: 1)
        // The job fetched together with the previous job's acknowledgement, if any.
        var fetched: Lease?
        while !Task.isCancelled && !isDraining {
            do {
                let lease: Lease
                if let next = fetched {
                    lease = next
                    fetched = nil
                } else if let next = try await source.lease(request, wait: configuration.idlePoll).first {
                    lease = next
                } else {
                    continue
                }
                if isDraining {
                    fetched = lease
                    break
                }
                let runner = JobRunner(pool: self, lease: lease)
                guard case .succeeded(let outputs) = await runner.run() else { continue }
                // Acknowledge and fetch in one round trip (nothing is fetched while draining).
                var next = request
                if isDraining { next.limit = 0 }
                fetched = await runner.complete(outputs, thenLease: next)
            } catch {
                logger.error("work source unavailable; retrying shortly", metadata: ["error": "\(error)", "slot": "\(slot)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        if let unstarted = fetched {
            // Fetched just as draining began: hand it straight back.
            _ = try? await source.release(unstarted.token)
        }
    }
}
