import ArgumentParser
import AsyncHTTPClient
import AtelierClient
import AtelierCore
import AtelierMedia
import AtelierWorker
import Foundation
import Logging
import ServiceLifecycle

/// `atelier worker`: runs the built-in backend on this machine for a remote server.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run jobs for an Atelier server on this machine."
    )

    @OptionGroup var connection: Connection
    @Option(help: "The pool to take jobs from (image or video).") var pool = "image"
    @Option(help: "Jobs to run at once.") var slots = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seconds running jobs get to finish on shutdown before being handed back.") var shutdownGrace = 10
    @Option(help: "Jobs shorter than this many milliseconds are leased one ahead, so a slot does not wait for the platform between them (0: off; at most a quarter of the lease).")
    var leaseAheadMs = Int(WorkerConfiguration.defaultLeaseAhead / .milliseconds(1))
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    func validate() throws {
        guard PoolName(rawValue: pool) != nil else { throw ValidationError("--pool must be a pool name such as image or video") }
        guard (1...256).contains(slots) else { throw ValidationError("--slots must be from 1 to 256") }
        guard (0...60_000).contains(leaseAheadMs) else { throw ValidationError("--lease-ahead-ms must be from 0 to 60000") }
    }

    func run() async throws {
        let (server, key) = try connection.resolved()
        var logger = Logger(label: "atelier.worker")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let source = RemoteWorkSource(server: server, apiKey: key)
        let ffmpeg = FFmpeg.locate(environment: ProcessInfo.processInfo.environment)
        let configuration = WorkerConfiguration(
            worker: WorkerID(rawValue: "remote")!, pool: PoolName(rawValue: pool)!, slots: slots,
            idlePoll: .seconds(20), shutdownGrace: .seconds(shutdownGrace), leaseAhead: .milliseconds(leaseAheadMs)
        )
        let workers = WorkerPool(source: source, backend: BuiltinBackend(ffmpeg: ffmpeg, ffprobe: FFprobe.locate(besides: ffmpeg, searchPath: ProcessInfo.processInfo.environment["PATH"])), configuration: configuration,
                                 clock: SystemWallClock(), logger: logger)
        print("worker: \(slots) slot(s) on pool \(pool) for \(server)")
        fflush(nil)
        let group = ServiceGroup(services: [workers], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// The server and key every client command needs: flags first, then the environment.
struct Connection: ParsableArguments {
    @Option(help: "Server URL (default: $ATELIER_SERVER, else http://127.0.0.1:8080).") var server: String?
    @Option(help: "API key (default: $ATELIER_API_KEY).") var key: String?

    func resolved() throws -> (server: String, key: String) {
        let environment = ProcessInfo.processInfo.environment
        let server = server ?? environment["ATELIER_SERVER"] ?? "http://127.0.0.1:8080"
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw CLIFailure("the server URL must start with http:// or https:// (got \(server))")
        }
        guard let key = key ?? environment["ATELIER_API_KEY"], !key.isEmpty else {
            throw CLIFailure("no API key: pass --key or set ATELIER_API_KEY")
        }
        return (server, key)
    }

    func client() throws -> AtelierClient {
        let (server, key) = try resolved()
        return AtelierClient(server: server, apiKey: key, client: .interactive)
    }
}
