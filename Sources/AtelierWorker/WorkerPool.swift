public import AtelierCore
public import AtelierBlobs
public import AtelierStore
public import Logging
public import ServiceLifecycle
import Synchronization
import Foundation

/// Runs jobs of one pool on `slots` concurrent slots, in this process.
///
/// Each slot leases a job (waking on the store's work signal rather than polling), runs it on
/// the backend while a monitor renews the lease and forwards progress, then stores the
/// artifacts and completes the job — or fails, cancels, or hands the lease back. On graceful
/// shutdown slots stop leasing, running jobs get `shutdownGrace` to finish, and whatever is
/// still running then is released to the queue with its attempt not counted.
public final class WorkerPool<B: Backend>: Service {
    let store: any JobStore
    let blobs: any BlobStore
    let backend: B
    let configuration: WorkerConfiguration
    let clock: any WallClock
    let ids: IDGenerator
    let logger: Logger
    private let draining = Mutex<Date?>(nil)

    public init(store: any JobStore, blobs: any BlobStore, backend: B, configuration: WorkerConfiguration,
                clock: any WallClock, logger: Logger = Logger(label: "atelier.worker")) {
        self.store = store
        self.blobs = blobs
        self.backend = backend
        self.configuration = configuration
        self.clock = clock
        self.ids = IDGenerator(clock: clock)
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.worker)"
        logger[metadataKey: "pool"] = "\(configuration.pool)"
        self.logger = logger
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
        store.workSignal.ring(configuration.pool)
    }

    var isDraining: Bool { draining.withLock { $0 != nil } }

    /// Whether running jobs must now be handed back.
    var isPastGrace: Bool { draining.withLock { $0.map { clock.now >= $0 } ?? false } }

    private func runSlot(_ slot: Int) async {
        let request = LeaseRequest(
            pool: configuration.pool, worker: configuration.worker, models: backend.models, limit: 1,
            leaseDuration: configuration.lease.duration
        )
        while !Task.isCancelled && !isDraining {
            let ticket = store.workSignal.ticket(for: configuration.pool)
            do {
                if let lease = try await store.leaseJobs(request, now: clock.now).first {
                    await JobRunner(pool: self, lease: lease).run()
                } else {
                    await store.workSignal.wait(ticket, timeout: configuration.idlePoll)
                }
            } catch {
                logger.error("leasing failed; retrying shortly", metadata: ["error": "\(error)", "slot": "\(slot)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
