public import Foundation

/// When a failed attempt is tried again: exponential backoff with "equal jitter".
///
/// The n-th retry waits between half and all of `min(maximum, base × 2^(n-1))`, so retries of
/// many jobs that failed together spread out instead of returning in a herd.
public struct RetryPolicy: Sendable, Hashable {
    public var base: TimeInterval
    public var maximum: TimeInterval

    public init(base: TimeInterval = 2, maximum: TimeInterval = 600) {
        self.base = base
        self.maximum = maximum
    }

    /// The delay before the attempt that follows attempt number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> TimeInterval {
        let exponent = Double(max(0, min(attempt - 1, 30)))
        let ceiling = min(maximum, base * pow(2, exponent))
        return ceiling / 2 + Double.random(in: 0...(ceiling / 2), using: &random)
    }
}
