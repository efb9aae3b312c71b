import AtelierCore
import AtelierStore
import AtelierTestSupport
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// Two PostgreSQL stores on one database, as two server nodes: work announced by one wakes
/// the other's idle dispatchers through LISTEN/NOTIFY, debounced.
@Suite struct PostgresNodesTests {
    @Test func workOnOneNodeWakesTheOtherAndBurstsAreDebounced() async throws {
        let server = try await ThrowawayPostgres.shared()
        let url = try await server.createDatabase()
        let first = try await PostgresJobStore(url: url)
        let second = try await PostgresJobStore(url: url)
        let clock = ManualWallClock()
        let ids = IDGenerator(clock: clock, random: SplitMix64(seed: 3))
        let creator = Creator(id: ids.creatorID(), name: "alice", weight: 1, createdAt: clock.now)
        try await first.createCreator(creator)
        @Sendable func job(_ pool: PoolName = .image) -> NewJob {
            NewJob(id: ids.jobID(), creatorID: creator.id, kind: pool == .image ? .image : .video, pool: pool, model: .builtin,
                   prompt: "a fox", params: JobParams(width: 64, height: 64, seed: 1), priority: 0, cost: 1, maxAttempts: 3)
        }

        // Only the pool that got work rings on the other node.
        let image = second.workSignal.ticket(for: .image)
        let video = second.workSignal.ticket(for: .video)
        _ = try await first.enqueue([job()], now: clock.now)
        await second.workSignal.wait(image, timeout: .seconds(20))
        #expect(second.workSignal.hasRung(since: image))
        #expect(!second.workSignal.hasRung(since: video))

        // A burst of 200 separate submissions sends far fewer notifications than 200.
        let counted = Mutex(0)
        let counter = Task {
            let configuration = PostgresConnection.Configuration(
                host: "127.0.0.1", port: server.port, username: "atelier", password: nil,
                database: String(url.split(separator: "/").last!.prefix { $0 != "?" }), tls: .disable)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 9, logger: Logger(label: "test"))
            try? await connection.listen(on: "atelier_work") { notifications in
                for try await _ in notifications { counted.withLock { $0 += 1 } }
            }
            try await connection.close()
        }
        try await Task.sleep(for: .milliseconds(300))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask { _ = try await first.enqueue([job()], now: clock.now) }
            }
            try await group.waitForAll()
        }
        try await Task.sleep(for: .seconds(1))
        counter.cancel()
        let notifications = counted.withLock { $0 }
        print("200 submissions sent \(notifications) notifications")
        #expect(notifications >= 1)
        #expect(notifications < 100)
        await first.shutdown()
        await second.shutdown()
    }
}
