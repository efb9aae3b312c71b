public import Foundation
import Logging
import NIOCore
import NIOPosix
public import PostgresNIO

/// A real PostgreSQL server for tests: `initdb` into a temporary folder, started on a free
/// loopback port, stopped (and its folder removed) when the test process exits. Runs as the
/// `postgres` system user when the tests run as root, which PostgreSQL refuses.
///
/// One server per test process; each test asks for a database of its own.
public final class ThrowawayPostgres: Sendable {
    public let port: Int
    public let directory: URL
    let bin: URL
    let asUser: String?

    /// The server of this test process, started on first use.
    public static func shared() async throws -> ThrowawayPostgres {
        try await Starter.shared.server()
    }

    /// A server of its own, for tests that stop and restart it (the shared one must stay up).
    public static func dedicated() async throws -> ThrowawayPostgres {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try ThrowawayPostgres.start() }) }.start()
        }
    }

    private actor Starter {
        static let shared = Starter()
        private var started: Task<ThrowawayPostgres, any Error>?

        func server() async throws -> ThrowawayPostgres {
            if let started { return try await started.value }
            // initdb and pg_ctl block; they run on a thread of their own, never on the
            // cooperative pool (two threads on a 2-core machine: blocking one starves the tests).
            let task = Task {
                try await withCheckedThrowingContinuation { continuation in
                    Thread { continuation.resume(with: Result { try ThrowawayPostgres.start() }) }.start()
                }
            }
            started = task
            return try await task.value
        }
    }

    private init(port: Int, directory: URL, bin: URL, asUser: String?) {
        self.port = port
        self.directory = directory
        self.bin = bin
        self.asUser = asUser
    }

    /// `postgres://atelier@127.0.0.1:PORT/NAME?sslmode=disable`
    public func url(database: String) -> String {
        "postgres://atelier@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates an empty database and returns its URL.
    public func createDatabase(_ name: String = "atelier_\(UUID().uuidString.prefix(12).lowercased())") async throws -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        _ = try await withConnection(database: "postgres") { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(safe)\""), logger: Self.logger)
        }
        return url(database: safe)
    }

    /// Runs `body` on a plain connection (no pool) to `database`.
    public func withConnection<T: Sendable>(database: String,
                                            _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: port, username: "atelier", password: nil, database: database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Self.logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Stops the server at once (as a crash would), keeping its data. Blocks: call it off the
    /// cooperative pool, or use `crash()`.
    public func kill() throws {
        try run(bin.appendingPathComponent("pg_ctl").path,
                ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"], check: false)
    }

    /// Starts the server again on the same port and data. Blocks, like `kill()`.
    public func restart() throws {
        try startServer()
    }

    /// `kill()` on a thread of its own.
    public func crash() async throws {
        try await Self.onThread { try self.kill() }
    }

    /// `restart()` on a thread of its own.
    public func start() async throws {
        try await Self.onThread { try self.restart() }
    }

    private static func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    var dataDirectory: URL { directory.appendingPathComponent("data") }

    static let logger = Logger(label: "atelier.tests.postgres")

    // MARK: Starting and stopping

    private static func start() throws -> ThrowawayPostgres {
        guard let bin = binaries() else {
            throw FixtureUnavailable(
                "no PostgreSQL server binaries (initdb, pg_ctl) found; run ./scripts/install-dependencies --tests")
        }
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("atelier-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asUser: String? = getuid() == 0 ? "postgres" : nil
        var server = ThrowawayPostgres(port: try LoopbackPort.free(), directory: directory, bin: bin, asUser: asUser)
        if let asUser {
            try server.run("/bin/chown", ["-R", asUser, directory.path], asSelf: true)
        }
        try server.run(bin.appendingPathComponent("initdb").path, [
            "-D", server.dataDirectory.path, "-U", "atelier", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync",
        ])
        // A port free when chosen can be taken before the server binds it (another test's
        // server restarting on it, say): then the same cluster starts on another port.
        for attempt in 1...5 {
            do {
                try server.startServer()
                break
            } catch where attempt < 5 && server.portWasTaken() {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent("server.log"))
                server = ThrowawayPostgres(port: try LoopbackPort.free(), directory: directory, bin: bin, asUser: asUser)
            }
        }
        ThrowawayPostgres.stopAtExit(server)
        return server
    }

    private func portWasTaken() -> Bool {
        let log = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        return log.contains("Address already in use")
    }

    private func startServer() throws {
        let options = [
            "-p \(port)", "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=\(directory.path)",
            "-c max_connections=500", "-c fsync=on", "-c shared_buffers=64MB",
            // server.log then explains a slow test: lock waits and statements over a second.
            "-c log_lock_waits=on", "-c log_min_duration_statement=1000",
        ].joined(separator: " ")
        try run(bin.appendingPathComponent("pg_ctl").path, [
            "-D", dataDirectory.path, "-l", directory.appendingPathComponent("server.log").path,
            "-o", options, "-w", "-t", "60", "start",
        ])
    }

    nonisolated(unsafe) private static var running: [ThrowawayPostgres] = []

    private static func stopAtExit(_ server: ThrowawayPostgres) {
        running.append(server)
        if running.count == 1 {
            atexit {
                for server in ThrowawayPostgres.running {
                    try? server.kill()
                    try? FileManager.default.removeItem(at: server.directory)
                }
            }
        }
    }

    private static func binaries() -> URL? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let bin = URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let bin = URL(fileURLWithPath: String(path))
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        return nil
    }

    /// Runs a program to its end, as the `postgres` user unless `asSelf`.
    private func run(_ executable: String, _ arguments: [String], asSelf: Bool = false, check: Bool = true) throws {
        let argv = (asUser != nil && !asSelf) ? ["/usr/sbin/runuser", "-u", asUser!, "--", executable] + arguments
                                              : [executable] + arguments
        let log = directory.appendingPathComponent("commands.log").path
        let code = ChildProcess.wait(try ChildProcess.spawn(argv, log: log))
        if check, code != 0 {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw FixtureUnavailable("\(URL(fileURLWithPath: executable).lastPathComponent) failed (exit \(code.map(String.init) ?? "by signal")): "
                                     + String(output.suffix(2000)))
        }
    }
}
