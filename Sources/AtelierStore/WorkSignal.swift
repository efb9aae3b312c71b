public import AtelierCore
import Synchronization

/// Wakes idle dispatchers when work becomes ready in a pool.
/// Engines ring it after committing (SQLite) or on LISTEN/NOTIFY (PostgreSQL).
public typealias WorkSignal = ChangeSignal<PoolName>

/// Wakes tasks waiting for something keyed by `Key` to change (work in a pool, a job's state).
///
/// A waiter takes a `Ticket` *before* it looks at the thing and waits on that ticket when it saw
/// nothing new; a ring that happened in between makes the wait return at once, so no wake-up is
/// ever lost.
///
/// With `watchedKeysOnly`, rings count only for keys someone `watch`es, and a key's bookkeeping
/// goes away when its last watcher leaves: for keys without end, such as job ids.
public final class ChangeSignal<Key: Hashable & Sendable>: Sendable {
    /// The key's ring count at the moment the ticket was taken.
    public struct Ticket: Sendable, Hashable {
        let pool: Key
        let generation: UInt64
    }

    private struct State {
        var generations: [Key: UInt64] = [:]
        var watchers: [Key: Int] = [:]
        var waiters: [Key: [UInt64: CheckedContinuation<Void, Never>]] = [:]
        /// Waiters that have an id but have not yet parked their continuation.
        var unparked: Set<UInt64> = []
        var cancelledBeforeWaiting: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())
    private let watchedKeysOnly: Bool

    public init(watchedKeysOnly: Bool = false) {
        self.watchedKeysOnly = watchedKeysOnly
    }

    /// Registers interest in `key`; pair with `unwatch`. Needed before taking tickets when
    /// the signal counts watched keys only.
    public func watch(_ key: Key) {
        state.withLock { $0.watchers[key, default: 0] += 1 }
    }

    public func unwatch(_ key: Key) {
        state.withLock { state in
            let remaining = state.watchers[key, default: 1] - 1
            if remaining > 0 {
                state.watchers[key] = remaining
            } else {
                state.watchers.removeValue(forKey: key)
                if watchedKeysOnly { state.generations.removeValue(forKey: key) }
            }
        }
    }

    public func ticket(for pool: Key) -> Ticket {
        state.withLock { Ticket(pool: pool, generation: $0.generations[pool, default: 0]) }
    }

    /// Whether the pool was rung since the ticket was taken.
    public func hasRung(since ticket: Ticket) -> Bool {
        state.withLock { $0.generations[ticket.pool, default: 0] != ticket.generation }
    }

    /// Wakes every task waiting on `pool`.
    public func ring(_ pool: Key) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if watchedKeysOnly && state.watchers[pool] == nil { return [] }
            state.generations[pool, default: 0] &+= 1
            return Array(state.waiters.removeValue(forKey: pool)?.values ?? [:].values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Rings every key in `keys`.
    public func ring(_ keys: some Sequence<Key>) {
        for key in keys { ring(key) }
    }

    /// Returns when the pool is rung after `ticket` was taken, when `timeout` passes, or when the
    /// calling task is cancelled, whichever comes first.
    public func wait(_ ticket: Ticket, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing(ticket) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing(_ ticket: Ticket) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            state.unparked.insert(state.nextWaiter)
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    state.unparked.remove(id)
                    if state.cancelledBeforeWaiting.remove(id) != nil { return true }
                    if state.generations[ticket.pool, default: 0] != ticket.generation { return true }
                    state.waiters[ticket.pool, default: [:]][id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let continuation = state.waiters[ticket.pool]?.removeValue(forKey: id) { return continuation }
                if state.unparked.contains(id) { state.cancelledBeforeWaiting.insert(id) }
                return nil
            }
            continuation?.resume()
        }
    }
}
