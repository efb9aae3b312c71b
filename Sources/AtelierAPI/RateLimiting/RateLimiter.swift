import Synchronization

/// Token buckets by name, refilled lazily from a monotonic clock. Memory is bounded: when
/// `capacity` buckets exist, full ones (which hold no information) are dropped first.
final class RateLimiter: Sendable {
    /// What a request learned from its bucket; the figures behind the `RateLimit-*` headers.
    struct Decision: Sendable, Equatable {
        var allowed: Bool
        var limit: Int
        var remaining: Int
        /// Seconds until the bucket is full again (`RateLimit-Reset`).
        var resetSeconds: Int
        /// Seconds until one request is allowed (`Retry-After` when refused).
        var retryAfterSeconds: Int
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
        var rule: RateLimits.Bucket

        /// Whether the bucket would be full at `time`, so forgetting it loses nothing.
        func isFull(at time: Double) -> Bool {
            tokens + max(0, time - updated) * rule.perSecond >= Double(rule.burst)
        }
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let capacity: Int
    private let now: @Sendable () -> Double

    /// `now` is in seconds on a clock that never goes back.
    init(capacity: Int = 100_000, now: @escaping @Sendable () -> Double = RateLimiter.monotonicSeconds) {
        self.capacity = capacity
        self.now = now
    }

    private static let origin = ContinuousClock.now

    static func monotonicSeconds() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Takes `cost` tokens from `name`'s bucket when it has them.
    func take(_ name: String, _ rule: RateLimits.Bucket, cost: Double = 1) -> Decision {
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[name] ?? Bucket(tokens: Double(rule.burst), updated: time, rule: rule)
            bucket.tokens = min(Double(rule.burst), bucket.tokens + max(0, time - bucket.updated) * rule.perSecond)
            bucket.updated = time
            let allowed = bucket.tokens >= cost
            if allowed { bucket.tokens -= cost }
            if buckets[name] == nil && buckets.count >= capacity { Self.prune(&buckets, time: time, capacity: capacity) }
            buckets[name] = bucket
            return Self.decision(bucket, rule, allowed: allowed)
        }
    }

    /// How `name`'s bucket stands, without taking from it.
    func peek(_ name: String, _ rule: RateLimits.Bucket) -> Decision {
        let time = now()
        return buckets.withLock { buckets in
            guard var bucket = buckets[name] else {
                return Self.decision(Bucket(tokens: Double(rule.burst), updated: time, rule: rule), rule, allowed: true)
            }
            bucket.tokens = min(Double(rule.burst), bucket.tokens + max(0, time - bucket.updated) * rule.perSecond)
            return Self.decision(bucket, rule, allowed: bucket.tokens >= 1)
        }
    }

    /// Whether `name` has a bucket.
    func contains(_ name: String) -> Bool {
        buckets.withLock { $0[name] != nil }
    }

    /// Forgets a bucket (a key that turned out not to exist must not keep one).
    func forget(_ name: String) {
        _ = buckets.withLock { $0.removeValue(forKey: name) }
    }

    private static func decision(_ bucket: Bucket, _ rule: RateLimits.Bucket, allowed: Bool) -> Decision {
        let missing = Double(rule.burst) - bucket.tokens
        return Decision(
            allowed: allowed, limit: rule.burst, remaining: max(0, Int(bucket.tokens.rounded(.down))),
            resetSeconds: max(0, Int((missing / rule.perSecond).rounded(.up))),
            retryAfterSeconds: max(1, Int(((1 - bucket.tokens) / rule.perSecond).rounded(.up))))
    }

    /// Drops buckets that would be full by now (nothing lost), then, if that was not enough,
    /// the least recently used half.
    private static func prune(_ buckets: inout [String: Bucket], time: Double, capacity: Int) {
        buckets = buckets.filter { !$0.value.isFull(at: time) }
        guard buckets.count >= capacity else { return }
        let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(capacity / 2)
        buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
