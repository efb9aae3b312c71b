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
        // Jobs leased for this slot and not started: those fetched with the previous job's
        // acknowledgement, and while short jobs run, the one leased ahead of the next.
        var fetched: [Lease] = []
        var ahead: LeasedAhead?
        while !Task.isCancelled && !isDraining {
            do {
                if fetched.isEmpty, let waiting = ahead {
                    fetched = await waiting.take()
                    ahead = nil
                }
                let lease: Lease
                if !fetched.isEmpty {
                    lease = fetched.removeFirst()
                } else if let next = try await source.lease(request, wait: configuration.idlePoll).first {
                    lease = next
                } else {
                    continue
                }
                if isDraining {
                    fetched.insert(lease, at: 0)
                    break
                }
                if !fetched.isEmpty {
                    ahead = LeasedAhead(fetched, patience: configuration.leaseAhead, source: source)
                    fetched = []
                }
                let runner = JobRunner(pool: self, lease: lease)
                let started = ContinuousClock.now
                guard case .succeeded(let outputs) = await runner.run() else { continue }
                let isShort = started.duration(to: .now) < configuration.leaseAhead
                if let waiting = ahead {
                    fetched = await waiting.take()
                    ahead = nil
                }
                var next = request
                if isShort, fetched.count == 1, !isDraining {
                    // Start the job leased ahead now; this one's acknowledgement, fetching the
                    // one after, runs while it does.
                    ahead = LeasedAhead(Task { await runner.complete(outputs, thenLease: next) },
                                        patience: configuration.leaseAhead, source: source)
                    continue
                }
                // Acknowledge and fetch in one round trip (nothing is fetched while draining);
                // after a short job, fetch one more to start leasing ahead.
                next.limit = isDraining ? 0 : max(0, (isShort ? 2 : 1) - fetched.count)
                fetched += await runner.complete(outputs, thenLease: next)
            } catch {
                logger.error("work source unavailable; retrying shortly", metadata: ["error": "\(error)", "slot": "\(slot)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        if let waiting = ahead { fetched += await waiting.take() }
        // Fetched but not started (draining began, or the slot was cancelled): hand them back.
        for unstarted in fetched { _ = try? await source.release(unstarted.token) }
    }
}

/// Jobs a slot leased ahead while another job runs. Their leases are not renewed, so when the
/// running job outlasts `patience` they are handed back to the queue (the attempt not counted)
/// rather than held idle; `take` then gives nothing and the slot leases afresh.
final class LeasedAhead: Sendable {
    private let fetch: Task<[Lease], Never>
    private let expiry: Task<Void, Never>
    /// nil while waiting; true once the slot took the leases, false once they were handed back.
    private let claim: ClaimFlag

    convenience init(_ leases: [Lease], patience: Duration, source: any WorkSource) {
        self.init(Task { leases }, patience: patience, source: source)
    }

    init(_ fetch: Task<[Lease], Never>, patience: Duration, source: any WorkSource) {
        let claim = ClaimFlag()
        self.fetch = fetch
        self.claim = claim
        expiry = Task {
            try? await Task.sleep(for: patience)
            guard claim.settle(taken: false) else { return }
            for lease in await fetch.value { _ = try? await source.release(lease.token) }
        }
    }

    /// The leases, unless they were handed back; waits for the fetch when it is still on its way.
    func take() async -> [Lease] {
        guard claim.settle(taken: true) else {
            await expiry.value
            return []
        }
        expiry.cancel()
        return await fetch.value
    }
}

/// Settled once, by whichever of the slot and the expiry comes first.
private final class ClaimFlag: Sendable {
    private let state = Mutex<Bool?>(nil)

    /// Whether this call settled it.
    func settle(taken: Bool) -> Bool {
        state.withLock { state in
            guard state == nil else { return false }
            state = taken
            return true
        }
    }
}
