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
            await pass()
            try? await Task.sleep(for: interval)
        }
        if !Task.isCancelled { await pass() }
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
