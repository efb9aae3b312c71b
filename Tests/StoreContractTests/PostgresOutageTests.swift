import AtelierCore
import AtelierStore
import AtelierTestSupport
import Foundation
import Testing

/// The PostgreSQL engine while its server goes away and comes back: every call in between
/// fails with `StoreError.unavailable` (never hangs, never half-writes), and the same store
/// object carries on once the server is back, with nothing lost.
@Suite struct PostgresOutageTests {
    @Test func theStoreSaysUnavailableThenRecovers() async throws {
        let server = try await ThrowawayPostgres.dedicated()
        let store = try await PostgresJobStore(url: try await server.createDatabase("outage"))
        let clock = ManualWallClock()
        let ids = IDGenerator(clock: clock, random: SplitMix64(seed: 9))
        let creator = Creator(id: ids.creatorID(), name: "alice", weight: 1, credits: 1_000_000_000, createdAt: clock.now)
        try await store.createCreator(creator)
        func job() -> NewJob {
            NewJob(id: ids.jobID(), creatorID: creator.id, kind: .image, pool: .image, model: .builtin, prompt: "a fox",
                   params: JobParams(width: 64, height: 64, seed: 1), priority: 0, cost: 1, maxAttempts: 3)
        }
        let before = try await store.enqueue([job(), job()], now: clock.now).map(\.job.id)

        try await server.crash()
        let started = ContinuousClock.now
        await #expect {
            _ = try await store.enqueue([job()], now: clock.now)
        } throws: { error in
            (error as? StoreError)?.code == .unavailable
        }
        await #expect {
            _ = try await store.job(id: before[0], scope: .operator)
        } throws: { error in
            (error as? StoreError)?.code == .unavailable
        }
        print("outage detected after \(started.duration(to: .now))")

        try await server.start()
        // The pool reconnects by itself; the first calls may still meet a dead connection.
        var after: [JobID] = []
        for _ in 0..<100 where after.isEmpty {
            after = (try? await store.enqueue([job()], now: clock.now).map(\.job.id)) ?? []
            if after.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(after.count == 1)
        let page = try await store.jobs(JobQuery(scope: .operator, limit: 50))
        #expect(Set(page.jobs.map(\.id)) == Set(before + after))
        await store.shutdown()
        try await server.crash()
    }
}
