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
        // The job fetched together with the previous job's acknowledgement, if any.
        var fetched: Lease?
        while !Task.isCancelled && !isDraining {
            let ticket = store.workSignal.ticket(for: configuration.pool)
            do {
                let lease: Lease
                if let next = fetched {
                    lease = next
                    fetched = nil
                } else if let next = try await store.leaseJobs(request, now: clock.now).first {
                    lease = next
                } else {
                    await store.workSignal.wait(ticket, timeout: configuration.idlePoll)
                    continue
                }
                let runner = JobRunner(pool: self, lease: lease)
                guard case .succeeded(let completion, let stored) = await runner.run() else { continue }
                // Acknowledge and fetch in one round trip (nothing is fetched while draining).
                var next = request
                if isDraining { next.limit = 0 }
                let (outcomes, leases) = try await store.complete([completion], thenLease: next, now: clock.now)
                await runner.acknowledged(outcomes.first ?? .leaseLost, stored: stored)
                fetched = leases.first
            } catch {
                logger.error("store call failed; retrying shortly", metadata: ["error": "\(error)", "slot": "\(slot)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        if let unstarted = fetched {
            // Fetched just as draining began: hand it straight back.
            _ = try? await store.release(unstarted.token, now: clock.now)
        }
    }
}
