import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The store's way to the database: postgres-nio's connection pool, plus what the pool does
/// not do on its own when the server goes away.
///
/// - Waiting for a connection is bounded (`acquireTimeout`): a request gets
///   `StoreError.unavailable` (a 503 at the API) instead of waiting for the pool's circuit
///   breaker, which takes about a minute to trip.
/// - Once the database is found unreachable, calls fail at once rather than pile up, and a
///   probe connects every `probeInterval`; when it succeeds the pool is replaced by a fresh one
///   (the old pool's reconnect back-off can last a minute after the server is back).
final class PostgresConnector: Sendable {
    private struct Pool {
        var client: PostgresClient
        var runner: Task<Void, Never>
    }

    private struct State {
        var pool: Pool
        var down = false
        var probe: Task<Void, Never>?
        var closed = false
    }

    private let url: PostgresURL
    private let logger: Logger
    private let state: Mutex<State>
    private let lastReachable = Mutex<ContinuousClock.Instant?>(nil)
    let acquireTimeout: Duration
    let probeInterval: Duration

    init(url: PostgresURL, logger: Logger, acquireTimeout: Duration = .seconds(3), probeInterval: Duration = .milliseconds(250)) {
        self.url = url
        self.logger = logger
        self.acquireTimeout = acquireTimeout
        self.probeInterval = probeInterval
        state = Mutex(State(pool: Self.makePool(url, logger: logger)))
    }

    private static func makePool(_ url: PostgresURL, logger: Logger) -> Pool {
        let client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: logger)
        return Pool(client: client, runner: Task { await client.run() })
    }

    /// Whether the last attempt found the database reachable.
    var isAvailable: Bool { state.withLock { !$0.down } }

    /// Stops the pool without waiting (the owner was released).
    func cancel() {
        state.withLock { state in
            state.closed = true
            state.probe?.cancel()
            state.pool.runner.cancel()
        }
    }

    func shutdown() async {
        let (runner, probe) = state.withLock { state in
            state.closed = true
            return (state.pool.runner, state.probe)
        }
        probe?.cancel()
        runner.cancel()
        await runner.value
    }

    /// Runs `body` on a pooled connection; `StoreError.unavailable` when there is none to be had.
    func withConnection<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let (client, down, closed) = state.withLock { ($0.pool.client, $0.down, $0.closed) }
        if closed { throw Self.closed() }
        if down { throw Self.unavailable("reconnecting") }
        let acquired = AcquiredFlag()
        do {
            // An unstructured race, not a task group: a lease request stuck in a pool that
            // was replaced must not keep the caller waiting for it to unwind.
            let race = Race<T>()
            let work = Task {
                do {
                    let value = try await client.withConnection { connection in
                        acquired.set()
                        return try await body(connection)
                    }
                    await race.finish(.success(value))
                } catch {
                    await race.finish(.failure(error))
                }
            }
            let watchdog = Task {
                // A busy pool is not an outage: when the wait is long, ask the server directly,
                // and give up only when it does not answer.
                let started = ContinuousClock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.acquireTimeout)
                    if Task.isCancelled { return }
                    let (replaced, closed) = self.state.withLock { ($0.pool.client !== client, $0.closed) }
                    // A call caught by the shutdown may wait on a pool that no longer runs.
                    if closed {
                        await race.finish(.failure(Self.closed()))
                        work.cancel()
                        return
                    }
                    if acquired.isSet && !replaced {
                        // A long call is usually a lock wait; but one on a connection whose
                        // server has gone away may never hear back, so it is given up when the
                        // server does not answer a probe either.
                        if await self.recentlyReachable() {
                            self.logger.warning("a database call has been running for \(started.duration(to: .now))",
                                                metadata: ["database": "\(self.url.database)", "port": "\(self.url.port)"])
                            continue
                        }
                        await race.finish(.failure(Self.unavailable("the server stopped answering during the call")))
                        work.cancel()
                        return
                    }
                    // A call on a pool that was replaced (the server went away under it) can
                    // never succeed, whether or not it got a connection: give up on it.
                    if replaced {
                        await race.finish(.failure(Self.unavailable("the connection pool was replaced while waiting")))
                        work.cancel()
                        return
                    }
                    if await !self.recentlyReachable() {
                        await race.finish(.failure(Self.unavailable("no connection within \(self.acquireTimeout)")))
                        work.cancel()
                        return
                    }
                }
            }
            defer { watchdog.cancel() }
            return try await withTaskCancellationHandler {
                try await race.value()
            } onCancel: {
                work.cancel()
            }
        } catch {
            guard Self.isUnavailable(error) else { throw error }
            // A failure on a pool that has since been replaced says nothing about the new one.
            if state.withLock({ $0.pool.client === client }) { markDown(error) }
            if let error = error as? StoreError { throw error }
            throw Self.unavailable(Self.summary(error))
        }
    }

    // MARK: Outage handling

    private func markDown(_ error: any Error) {
        state.withLock { state in
            guard !state.closed, state.probe == nil else { return }
            logger.warning("database unreachable; answering 503 until it is back", metadata: ["error": "\(Self.summary(error))"])
            state.down = true
            state.probe = Task { await self.probeUntilBack() }
        }
    }

    private func probeUntilBack() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: probeInterval)
            if await probe() { break }
        }
        if Task.isCancelled { return }
        let old = state.withLock { state -> Pool? in
            guard !state.closed else { return nil }
            let old = state.pool
            state.pool = Self.makePool(url, logger: logger)
            state.down = false
            state.probe = nil
            return old
        }
        logger.notice("database reachable again; reconnected")
        old?.runner.cancel()
    }

    /// Whether the server answered a probe within the last `acquireTimeout` (probing now if
    /// not), so many waiting requests share one probe.
    private func recentlyReachable() async -> Bool {
        let now = ContinuousClock.now
        if let last = lastReachable.withLock({ $0 }), last.duration(to: now) < acquireTimeout { return true }
        guard await probe() else { return false }
        lastReachable.withLock { $0 = .now }
        return true
    }

    /// Whether a fresh connection (outside the pool) can run `SELECT 1`.
    private func probe() async -> Bool {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try url.connectionConfiguration(), id: 0, logger: logger)
            defer { Task { try? await connection.close() } }
            _ = try await connection.query("SELECT 1", logger: logger).collect()
            return true
        } catch {
            return false
        }
    }

    // MARK: Classifying errors

    static func closed() -> StoreError {
        StoreError(.unavailable, "the store is shut down")
    }

    static func unavailable(_ detail: String) -> StoreError {
        StoreError(.unavailable, "the database cannot be reached (\(detail)); try again shortly")
    }

    /// Connection failures, server shutdown and start-up, too many connections: anything that
    /// says "not now" rather than "not this".
    static func isUnavailable(_ error: any Error) -> Bool {
        if let error = error as? StoreError { return error.code == .unavailable }
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
            }
            return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed]
                .contains(error.code)
        }
        // The pool's own errors (circuit breaker tripped, request timed out) and socket errors.
        let type = String(reflecting: Swift.type(of: error))
        return type.contains("ConnectionPoolError") || error is IOError || error is ChannelError
    }

    static func summary(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            return error.serverInfo?[.message] ?? "\(error.code)"
        }
        return String(describing: error)
    }
}

/// Set once a pooled connection has been handed to the caller.
private final class AcquiredFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// The first of several outcomes; later ones are dropped.
private actor Race<T: Sendable> {
    private var result: Result<T, any Error>?
    private var waiter: CheckedContinuation<T, any Error>?

    func finish(_ outcome: Result<T, any Error>) {
        guard result == nil else { return }
        result = outcome
        waiter?.resume(with: outcome)
        waiter = nil
    }

    func value() async throws -> T {
        if let result { return try result.get() }
        return try await withCheckedThrowingContinuation { waiter = $0 }
    }
}
