public import AtelierCore
public import Foundation
import Synchronization

/// Which workers were heard from recently, per pool: for `/v1/admin/queues` and metrics.
public final class WorkerRegistry: Sendable {
    private let lastSeen = Mutex<[WorkerID: (pool: PoolName, at: Date)]>([:])
    /// A worker silent for longer than this is counted offline.
    let onlineWindow: TimeInterval

    public init(onlineWindow: TimeInterval = 60) {
        self.onlineWindow = onlineWindow
    }

    public func saw(_ worker: WorkerID, pool: PoolName, at now: Date) {
        lastSeen.withLock { $0[worker] = (pool, now) }
    }

    public func isOnline(_ worker: WorkerID, now: Date) -> Bool {
        lastSeen.withLock { $0[worker].map { now.timeIntervalSince($0.at) <= onlineWindow } ?? false }
    }

    /// Workers heard from within the window, counted per pool.
    public func online(now: Date) -> [PoolName: Int] {
        lastSeen.withLock { entries in
            var counts: [PoolName: Int] = [:]
            for (_, entry) in entries where now.timeIntervalSince(entry.at) <= onlineWindow {
                counts[entry.pool, default: 0] += 1
            }
            return counts
        }
    }
}
