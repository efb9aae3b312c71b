public import AtelierCore
public import AtelierStore
import Foundation
public import Logging
public import ServiceLifecycle

/// Keeps the chain of title moving: every `interval` it sequences queued entries into the log
/// and signs a checkpoint when one is due. Every node runs one; the store lets one at a time
/// work. A last pass at shutdown leaves nothing behind that a sequencer could already append.
public struct LedgerSequencerService: Service {
    let store: any LedgerStore
    let sequencer: LedgerSequencer
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    public init(store: any LedgerStore, sequencer: LedgerSequencer, clock: any WallClock, interval: Duration, logger: Logger) {
        self.store = store
        self.sequencer = sequencer
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await passUnlessCancelled()
            try? await Task.sleep(for: interval)
        }
        if !Task.isCancelled { await passUnlessCancelled() }
    }

    /// One pass, given up (not waited for) when the service is cancelled: a pass is one
    /// transaction, so an abandoned one simply rolls back, and a cancelled server must stop
    /// even if its database does not answer.
    private func passUnlessCancelled() async {
        let (done, finished) = AsyncStream.makeStream(of: Never.self)
        let work = Task {
            await pass()
            finished.finish()
        }
        await withTaskCancellationHandler {
            for await _ in done {}
        } onCancel: {
            work.cancel()
            finished.finish()
        }
    }

    private func pass() async {
        do {
            // A backlog is drained pass by pass, each a bounded transaction.
            while case .sequenced(let appended, _, _) = try await store.sequenceLedger(sequencer, now: clock.now),
                  appended >= sequencer.passLimit {}
        } catch {
            logger.error("ledger sequencing failed", metadata: ["error": "\(error)"])
        }
    }
}
