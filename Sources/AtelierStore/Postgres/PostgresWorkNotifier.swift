import AtelierCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Wakes idle dispatchers on every node when work becomes ready, through LISTEN/NOTIFY.
///
/// Sending: after a commit makes jobs ready, `announce` rings this node's signal at once and
/// sends `pg_notify('atelier_work', '<pool> <node>')` — debounced: while one NOTIFY is on its
/// way, further announcements gather into the next one, so a burst of ten thousand inserts
/// costs a handful of notifications, not ten thousand.
///
/// Receiving: one dedicated connection LISTENs and rings the signal for every pool announced
/// by another node. When that connection drops it reconnects, and rings every pool it knows
/// (an announcement may have been missed in between; a spurious wake-up costs one query).
final class PostgresWorkNotifier: Sendable {
    static let channel = "atelier_work"

    private struct Outbox {
        var pools: Set<PoolName> = []
        var sending = false
    }

    private let url: PostgresURL
    private let connector: PostgresConnector
    private let signal: WorkSignal
    private let logger: Logger
    /// Tells this node's own notifications from others'.
    let node = String(UUID().uuidString.prefix(8)).lowercased()
    private let outbox = Mutex(Outbox())
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let known = Mutex<Set<PoolName>>([.image, .video])

    init(url: PostgresURL, connector: PostgresConnector, signal: WorkSignal, logger: Logger) {
        self.url = url
        self.connector = connector
        self.signal = signal
        self.logger = logger
    }

    /// Starts listening; returns once the first LISTEN is in place (or failed: then the
    /// listener keeps retrying in the background and local wake-ups still work).
    func start() async throws {
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        let task = Task { await self.listen(onReady: { readyContinuation.finish() }) }
        listener.withLock { $0 = task }
        for await _ in ready {}
    }

    /// Stops listening without waiting.
    func cancel() {
        listener.withLock { $0?.cancel() }
    }

    func shutdown() async {
        let task = listener.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    // MARK: Sending

    /// Work became ready in `pools` (call after the commit).
    func announce(_ pools: some Sequence<PoolName>) {
        let pools = Set(pools)
        guard !pools.isEmpty else { return }
        signal.ring(pools)
        known.withLock { $0.formUnion(pools) }
        let startSending = outbox.withLock { outbox -> Bool in
            outbox.pools.formUnion(pools)
            if outbox.sending { return false }
            outbox.sending = true
            return true
        }
        if startSending { Task { await self.drain() } }
    }

    func announce(_ pool: PoolName) {
        announce(CollectionOfOne(pool))
    }

    private func drain() async {
        while true {
            let pools = outbox.withLock { outbox -> [String] in
                let pools = outbox.pools.map(\.rawValue)
                outbox.pools = []
                if pools.isEmpty { outbox.sending = false }
                return pools
            }
            if pools.isEmpty { return }
            let payloads = pools.map { "\($0) \(node)" }
            do {
                try await connector.withConnection { connection in
                    _ = try await connection.query(
                        "SELECT pg_notify(\(Self.channel), payload) FROM unnest(\(payloads)::text[]) AS payload",
                        logger: self.logger
                    ).collect()
                }
            } catch {
                // Other nodes still find the work within their idle poll; nothing is lost.
                logger.debug("could not announce work", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Receiving

    private func listen(onReady: @escaping @Sendable () -> Void) async {
        var readyCalled = false
        var reconnecting = false
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try url.connectionConfiguration(), id: 1, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: Self.channel) { notifications in
                    if !readyCalled { readyCalled = true; onReady() }
                    if reconnecting { signal.ring(known.withLock { $0 }) }
                    try await withTaskCancellationHandler {
                        for try await notification in notifications {
                            let parts = notification.payload.split(separator: " ")
                            guard parts.count == 2, parts[1] != node, let pool = PoolName(rawValue: String(parts[0])) else { continue }
                            signal.ring(pool)
                        }
                    } onCancel: {
                        Task { try? await connection.close() }
                    }
                }
            } catch {
                if !readyCalled { readyCalled = true; onReady() }
                if Task.isCancelled { return }
                logger.debug("work listener reconnecting", metadata: ["error": "\(error)"])
            }
            reconnecting = true
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}
