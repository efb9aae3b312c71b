public import Foundation
import Synchronization

/// A bounded least-recently-used cache with a time to live, in memory: repeated planning
/// requests are answered without asking a provider again.
public final class PlanCache<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: Date
        var previous: String?
        var next: String?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Most recently used.
        var head: String?
        /// Least recently used, evicted first.
        var tail: String?
    }

    public let capacity: Int
    public let timeToLive: TimeInterval
    private let state = Mutex(State())

    public init(capacity: Int, timeToLive: TimeInterval) {
        self.capacity = max(0, capacity)
        self.timeToLive = timeToLive
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// The value under `key` if present and fresh; a hit becomes the most recently used.
    public func value(for key: String, now: Date) -> Value? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                Self.unlink(key, in: &state)
                return nil
            }
            Self.unlink(key, in: &state)
            Self.pushFront(key, entry, in: &state)
            return entry.value
        }
    }

    public func store(_ value: Value, for key: String, now: Date) {
        guard capacity > 0 else { return }
        state.withLock { state in
            if state.entries[key] != nil { Self.unlink(key, in: &state) }
            Self.pushFront(key, Entry(value: value, expires: now.addingTimeInterval(timeToLive)), in: &state)
            while state.entries.count > capacity, let oldest = state.tail {
                Self.unlink(oldest, in: &state)
            }
        }
    }

    /// Empties the cache; returns how many entries it held.
    @discardableResult
    public func clear() -> Int {
        state.withLock { state in
            let count = state.entries.count
            state = State()
            return count
        }
    }

    private static func unlink(_ key: String, in state: inout State) {
        guard let entry = state.entries.removeValue(forKey: key) else { return }
        if let previous = entry.previous { state.entries[previous]?.next = entry.next } else { state.head = entry.next }
        if let next = entry.next { state.entries[next]?.previous = entry.previous } else { state.tail = entry.previous }
    }

    private static func pushFront(_ key: String, _ entry: Entry, in state: inout State) {
        var entry = entry
        entry.previous = nil
        entry.next = state.head
        if let head = state.head { state.entries[head]?.previous = key }
        state.head = key
        if state.tail == nil { state.tail = key }
        state.entries[key] = entry
    }
}
