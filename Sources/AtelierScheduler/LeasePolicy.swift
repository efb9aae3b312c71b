public import Foundation

/// How long a lease lasts and how often its holder renews it.
public struct LeasePolicy: Sendable, Hashable {
    /// A lease not renewed within this time expires and its job goes back to the queue.
    public var duration: TimeInterval
    /// Renew well before expiry so one slow round trip does not lose the lease.
    public var heartbeatInterval: TimeInterval { duration / 3 }

    public init(duration: TimeInterval = 30) {
        self.duration = duration
    }
}
