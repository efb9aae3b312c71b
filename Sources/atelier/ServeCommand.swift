import ArgumentParser
import AtelierAPI
import AtelierCore
import AtelierBlobs
import AtelierStore
import AtelierWorker
import Foundation
import Logging

/// `atelier serve`: the whole platform in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the embedded platform: API, scheduler, store and built-in workers."
    )

    @Option(help: "Where the database, artifacts and keys live.") var dataDir = "./atelier-data"
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "Built-in worker slots for images (videos get half); 0 for remote workers only.")
    var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seconds running jobs get to finish on shutdown before being handed back.") var shutdownGrace = 10
    @Option(help: "Seconds a lease lasts without a heartbeat (a dead worker's job is retried after this).")
    var leaseSeconds = 30.0
    @Option(help: "Jobs shorter than this many milliseconds are leased one ahead, so a built-in worker slot does not wait for the platform between them (0: off; at most a quarter of the lease).")
    var leaseAheadMs = Int(WorkerConfiguration.defaultLeaseAhead / .milliseconds(1))
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: "PostgreSQL URL (postgres://user[:password]@host[:port]/db); default: ATELIER_DATABASE_URL, else SQLite in the data directory.")
    var database: String?
    @Option(help: "Where artifacts live: s3://BUCKET[/PREFIX] or file; default: ATELIER_STORAGE, else the data directory.")
    var storage: String?
    @Option(help: "Rate limits, e.g. \"read=100/200,submit=50/100,write=20/40,worker=500/1000,auth-failures=1/10\" (rate per second/burst; off for none); default: ATELIER_RATE_LIMITS, else those.")
    var rateLimits: String?
    @Option(help: "Default quota: jobs a creator may have waiting to start (default: ATELIER_MAX_QUEUED_JOBS, else none).")
    var maxQueuedJobs: Int?
    @Option(help: "Default quota: jobs a creator may have running at once (default: ATELIER_MAX_RUNNING_JOBS, else none).")
    var maxRunningJobs: Int?
    @Option(help: "Default quota: credits a creator may spend per UTC day (default: ATELIER_MAX_DAILY_CREDITS, else none).")
    var maxDailyCredits: Int?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard (1...3600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be from 1 to 3600") }
        guard (0...256).contains(workers) else { throw ValidationError("--workers must be from 0 to 256") }
        guard (0...60_000).contains(leaseAheadMs) else { throw ValidationError("--lease-ahead-ms must be from 0 to 60000") }
        if let database, !database.hasPrefix("postgres://"), !database.hasPrefix("postgresql://") {
            throw ValidationError("--database must be a postgres:// URL")
        }
        if let storage {
            do { _ = try StorageLocation(parsing: storage) } catch { throw ValidationError("--storage: \(error)") }
        }
        if let rateLimits {
            do { _ = try RateLimits(spec: rateLimits) } catch { throw ValidationError("--\(error)") }
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var logger = Logger(label: "atelier")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let storageText = storage ?? environment["ATELIER_STORAGE"] ?? ""
        let storageLocation: StorageLocation
        do { storageLocation = try StorageLocation(parsing: storageText) } catch {
            throw ValidationError("ATELIER_STORAGE: \(error)")
        }
        let signingKey = environment["ATELIER_SIGNING_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let signingKey, signingKey.utf8.count < 32 { throw ValidationError("ATELIER_SIGNING_KEY must be at least 32 characters") }
        var configuration = ServerConfiguration(
            dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true), host: host, port: port, workers: workers,
            adminKey: environment["ATELIER_ADMIN_KEY"], publicURL: environment["ATELIER_PUBLIC_URL"],
            databaseURL: database ?? environment["ATELIER_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
            storage: storageLocation, signingKey: signingKey,
            shutdownGrace: .seconds(shutdownGrace), leaseDuration: leaseSeconds
        )
        configuration.leaseAhead = .milliseconds(leaseAheadMs)
        if let origin = environment["ATELIER_LEDGER_ORIGIN"], !origin.isEmpty { configuration.ledgerOrigin = origin }
        configuration.ledgerKey = environment["ATELIER_LEDGER_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        func quota(_ flag: Int?, _ variable: String) throws -> Int? {
            if let flag { return flag }
            guard let text = environment[variable], !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw ValidationError("\(variable) must be a whole number") }
            return value
        }
        configuration.quotas = Quotas(
            maxQueuedJobs: try quota(maxQueuedJobs, "ATELIER_MAX_QUEUED_JOBS"),
            maxRunningJobs: try quota(maxRunningJobs, "ATELIER_MAX_RUNNING_JOBS"),
            maxDailyCredits: try quota(maxDailyCredits, "ATELIER_MAX_DAILY_CREDITS"))
        do { try Quotas.validate(configuration.quotas) } catch { throw ValidationError("default quota \(error)") }
        if let json = environment["ATELIER_PRICING"], !json.isEmpty {
            do { configuration.pricing = try Pricing(json: json) } catch { throw ValidationError("\(error)") }
        }
        if let spec = rateLimits ?? environment["ATELIER_RATE_LIMITS"].flatMap({ $0.isEmpty ? nil : $0 }) {
            do { configuration.rateLimits = try RateLimits(spec: spec) } catch { throw ValidationError("ATELIER_RATE_LIMITS: \(error)") }
        }
        let server = try await AtelierServer.open(configuration: configuration, logger: logger)
        let description = configuration.describeStorage
        if server.adminKeyWasCreated {
            print("Generated an admin key (shown once; also saved in \(configuration.dataDirectory.path)/admin.key):")
            print("  \(server.adminKey)")
        }
        let host = self.host
        try await server.run { port in
            print("Atelier listening on http://\(host):\(port) (\(description))")
            fflush(nil)
        }
    }
}
