public import AtelierCore
public import AtelierStore
public import Logging
public import ServiceLifecycle

/// The store's periodic upkeep: returns expired leases to the queue, releases retries whose
/// backoff is over, and lets the engine do its own housekeeping (SQLite's WAL checkpoint).
public struct StoreMaintenance: Service {
    let store: any JobStore
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    public init(store: any JobStore, clock: any WallClock, interval: Duration = .seconds(1),
                logger: Logger = Logger(label: "atelier.maintenance")) {
        self.store = store
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await sweep()
            } catch {
                logger.error("maintenance sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass: reclaims expired leases, promotes due retries, then housekeeping.
    @discardableResult
    public func sweep() async throws -> (reclaimed: [ReclaimedLease], promoted: Int) {
        let now = clock.now
        let reclaimed = try await store.reclaimExpiredLeases(now: now)
        for lease in reclaimed {
            logger.warning("lease expired", metadata: ["job": "\(lease.jobID)", "now": "\(lease.status)"])
        }
        let promoted = try await store.promoteDueRetries(now: now)
        try await store.performHousekeeping()
        return (reclaimed, promoted)
    }
}
