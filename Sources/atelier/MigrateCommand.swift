import ArgumentParser
import AtelierStore
import Foundation
import Logging

/// `atelier migrate`: brings the database schema up to date, then exits. Servers also migrate
/// at start-up; this is for deployments that want it as a separate, explicit step.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations (PostgreSQL or the embedded SQLite file)."
    )

    @Option(help: "PostgreSQL URL; default: ATELIER_DATABASE_URL, else SQLite in the data directory.") var database: String?
    @Option(help: "The data directory holding the embedded SQLite database.") var dataDir = "./atelier-data"

    func run() async throws {
        let url = database ?? ProcessInfo.processInfo.environment["ATELIER_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        var logger = Logger(label: "atelier.migrate")
        logger.logLevel = .warning
        if let url {
            let (applied, latest) = try await PostgresJobStore.migrate(url: url, logger: logger)
            print(applied.isEmpty ? "PostgreSQL schema is up to date (version \(latest))"
                                  : "applied migrations \(applied.map(String.init).joined(separator: ", ")); schema at version \(latest)")
        } else {
            let directory = URL(fileURLWithPath: dataDir, isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try SQLiteJobStore(path: directory.appendingPathComponent("atelier.sqlite").path)
            await store.shutdown()
            print("SQLite schema in \(directory.path) is up to date")
        }
    }
}
