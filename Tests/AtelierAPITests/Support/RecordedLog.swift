import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A log handler that keeps the last lines in memory, for a test to show when it fails.
final class RecordedLog: LogHandler, Sendable {
    private let storage = Mutex<[String]>([])
    private let limit = 500

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    var lines: [String] { storage.withLock { $0 } }

    func log(event: LogEvent) {
        let details = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        let text = "\(Date()) \(event.level) \(event.message) \(details)\(error)"
        storage.withLock { lines in
            lines.append(text)
            if lines.count > limit { lines.removeFirst(lines.count - limit) }
        }
    }
}

/// A service that logs when it starts, sees cancellation and ends, so a server that does not
/// stop says which part of it is still running.
struct TracedService: Service, CustomStringConvertible {
    let base: any Service
    let log: Logger

    var description: String { String(describing: type(of: base)) }

    func run() async throws {
        log.debug("\(description): running")
        do {
            try await withTaskCancellationHandler {
                try await base.run()
            } onCancel: {
                log.debug("\(description): cancelled")
            }
            log.debug("\(description): returned")
        } catch {
            log.debug("\(description): threw \(error)")
            throw error
        }
    }
}
