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
        let creator = Creator(id: ids.creatorID(), name: "alice", weight: 1, credits: 1_000_000_000, createdAt: clock.now)
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

    /// A dispatcher that finds every creator with work held by another dispatcher comes back
    /// empty-handed; its signal is rung shortly after, so an idle worker looks again at once
    /// instead of sleeping through its idle poll while that work stays queued. Work it could
    /// never take (another model) rings nothing.
    @Test func aDispatcherThatFoundTheWorkHeldIsRungToLookAgain() async throws {
        let server = try await ThrowawayPostgres.shared()
        let url = try await server.createDatabase()
        let database = String(url.split(separator: "/").last!.prefix { $0 != "?" })
        let store = try await PostgresJobStore(url: url)
        let clock = ManualWallClock()
        let ids = IDGenerator(clock: clock, random: SplitMix64(seed: 5))
        let alice = Creator(id: ids.creatorID(), name: "alice", weight: 1, credits: 1_000_000_000, createdAt: clock.now)
        try await store.createCreator(alice)
        let jobs = (0..<3).map { _ in
            NewJob(id: ids.jobID(), creatorID: alice.id, kind: .image, pool: .image, model: .builtin, prompt: "a fox",
                   params: JobParams(width: 64, height: 64, seed: 1), priority: 0, cost: 1, maxAttempts: 3)
        }
        _ = try await store.enqueue(jobs, now: clock.now)
        func request(_ limit: Int, models: Set<ModelID> = [.builtin]) -> LeaseRequest {
            LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w1")!, models: models, limit: limit, leaseDuration: 30)
        }
        func rings(within limit: Duration, _ ticket: WorkSignal.Ticket) async -> Bool {
            await store.workSignal.wait(ticket, timeout: limit)
            return store.workSignal.hasRung(since: ticket)
        }

        try await server.withConnection(database: database) { holder in
            // Another dispatcher's transaction holds alice's fair-queue row.
            try await holder.query("BEGIN", logger: Logger(label: "test"))
            try await holder.query(
                "SELECT 1 FROM fair_queues WHERE creator_id = \(alice.id.rawValue) FOR UPDATE", logger: Logger(label: "test"))
            for limit in [1, 5] {
                let ticket = store.workSignal.ticket(for: .image)
                #expect(try await store.leaseJobs(request(limit), now: clock.now).isEmpty)
                #expect(await rings(within: .seconds(20), ticket), "limit \(limit)")
            }
            // Nothing for this model is queued at all: an empty lease rings nothing.
            let other = store.workSignal.ticket(for: .image)
            #expect(try await store.leaseJobs(request(1, models: [ModelID(rawValue: "sdxl")!]), now: clock.now).isEmpty)
            #expect(try await store.leaseJobs(request(5, models: [ModelID(rawValue: "sdxl")!]), now: clock.now).isEmpty)
            #expect(await !rings(within: .milliseconds(300), other))
            try await holder.query("COMMIT", logger: Logger(label: "test"))
        }
        #expect(try await store.leaseJobs(request(1), now: clock.now).count == 1)
        #expect(try await store.leaseJobs(request(5), now: clock.now).count == 2)
        await store.shutdown()
    }

    /// A creator another dispatcher holds is served by that dispatcher now; a second dispatcher
    /// serves the creators before it in fair order and stops at it, rather than spending its
    /// batch on the creators after it (which put them a batch ahead each time it happened).
    @Test func aDispatcherServesNobodyPastACreatorAnotherOneHolds() async throws {
        let server = try await ThrowawayPostgres.shared()
        let url = try await server.createDatabase()
        let database = String(url.split(separator: "/").last!.prefix { $0 != "?" })
        let store = try await PostgresJobStore(url: url)
        let clock = ManualWallClock()
        let ids = IDGenerator(clock: clock, random: SplitMix64(seed: 6))
        var creators: [CreatorID] = []
        for name in ["alice", "bob"] {
            let creator = Creator(id: ids.creatorID(), name: name, weight: 1, credits: 1_000_000_000, createdAt: clock.now)
            try await store.createCreator(creator)
            creators.append(creator.id)
            // Alice's queue is activated first, so she comes first at equal passes.
            _ = try await store.enqueue((0..<10).map { _ in
                NewJob(id: ids.jobID(), creatorID: creator.id, kind: .image, pool: .image, model: .builtin, prompt: "a fox",
                       params: JobParams(width: 64, height: 64, seed: 1), priority: 0, cost: 1, maxAttempts: 3)
            }, now: clock.now)
        }
        let (alice, bob) = (creators[0], creators[1])
        let request = LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w2")!, models: [.builtin], limit: 5,
                                   leaseDuration: 30)
        let logger = Logger(label: "test")
        func holding<T: Sendable>(_ creator: CreatorID, _ body: () async throws -> T) async throws -> T {
            try await server.withConnection(database: database) { holder in
                try await holder.query("BEGIN", logger: logger)
                try await holder.query("SELECT 1 FROM fair_queues WHERE creator_id = \(creator.rawValue) FOR UPDATE", logger: logger)
                let result = try await body()
                try await holder.query("ROLLBACK", logger: logger)
                return result
            }
        }

        // Alice is first and held: bob's jobs come after hers, so nothing is leased.
        let pastHeld = try await holding(alice) { try await store.leaseJobs(request, now: clock.now) }
        #expect(pastHeld.map(\.job.creatorID) == [])
        // Bob is held: alice is served until her turn passes his, which is one job.
        let beforeHeld = try await holding(bob) { try await store.leaseJobs(request, now: clock.now) }
        #expect(beforeHeld.map(\.job.creatorID) == [alice])
        // Nobody held: fair order, bob's turn first as he is now behind.
        let free = try await store.leaseJobs(request, now: clock.now)
        #expect(free.map(\.job.creatorID) == [bob, alice, bob, alice, bob])
        await store.shutdown()
    }
}
