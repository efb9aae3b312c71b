import AtelierCore
import AtelierStore
import Foundation
import Testing

/// Quotas (QuotaRules): jobs waiting to start and daily credits are checked in the transaction
/// that queues, running jobs by the lease planners, which pass over a creator at its cap
/// without disturbing the others' fair shares.
@Suite struct QuotaContractTests {
    private func refusal(_ error: any Error) -> QuotaHit? {
        guard let error = error as? StoreError, error.code == .quotaExceeded else { return nil }
        return error.quota
    }

    @Test(arguments: StoreEngine.all)
    func jobsWaitingToStartAreCappedAndFreeUpAsTheyStart(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine, quotas: Quotas(maxQueuedJobs: 3))
        let alice = try await h.makeCreator("alice")
        try await h.enqueue([h.newJob(alice), h.newJob(alice)])
        // A batch that would pass the cap is refused whole, and reserves nothing.
        let batch = [h.newJob(alice), h.newJob(alice)]
        await #expect {
            try await h.enqueue(batch)
        } throws: { refusal($0) == QuotaHit(name: "max_queued_jobs", limit: 3, resetsAt: nil) }
        for job in batch { #expect(try await h.store.job(id: job.id, scope: .operator) == nil) }
        #expect(try await h.auditCredits(alice).reserved == 2)
        try await h.enqueue([h.newJob(alice)])
        await #expect(throws: StoreError.self) { try await h.enqueue([h.newJob(alice)]) }
        // A job that starts no longer waits.
        _ = try await h.lease(1)
        try await h.enqueue([h.newJob(alice)])

        // A creator's own quota beats the default.
        let bob = try await h.makeCreator("bob")
        let raised = try await h.store.setQuotas(Quotas(maxQueuedJobs: 5), of: bob)
        #expect(raised.quotas == Quotas(maxQueuedJobs: 5))
        try await h.enqueue((0..<5).map { _ in h.newJob(bob) })
        await #expect(throws: StoreError.self) { try await h.enqueue([h.newJob(bob)]) }
        #expect(try await h.store.creator(id: bob)?.quotas.maxQueuedJobs == 5)
        await #expect {
            _ = try await h.store.setQuotas(Quotas(), of: CreatorID(rawValue: "cr_nobody")!)
        } throws: { ($0 as? StoreError)?.code == .unknownCreator }
    }

    @Test(arguments: StoreEngine.all)
    func dailyCreditsCountCapturesAndWhatIsHeldAndResetAtMidnightUTC(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        _ = try await h.store.setQuotas(Quotas(maxDailyCredits: 10), of: alice)
        let first = h.newJob(alice, cost: 4)
        try await h.enqueue([first, h.newJob(alice, cost: 4)])
        let midnight = QuotaRules.day(of: h.clock.now).next
        await #expect {
            try await h.enqueue([h.newJob(alice, cost: 3)])
        } throws: { refusal($0) == QuotaHit(name: "max_daily_credits", limit: 10, resetsAt: midnight) }
        // Captured (4) and held (4) both count; a cancelled job's release frees its part.
        let lease = try #require(try await h.lease(1).first)
        #expect(lease.job.id == first.id)
        _ = try await h.store.complete([Completion(token: lease.token)], now: h.clock.now)
        #expect(try await h.store.creditsSpentToday(by: alice, now: h.clock.now) == 4)
        let two = h.newJob(alice, cost: 2)
        try await h.enqueue([two])
        await #expect(throws: StoreError.self) { try await h.enqueue([h.newJob(alice, cost: 1)]) }
        _ = try await h.store.cancel(id: two.id, scope: .operator, now: h.clock.now)
        try await h.enqueue([h.newJob(alice, cost: 2)])

        // A new UTC day: yesterday's captures no longer count; what is still held does.
        h.clock.advance(by: midnight.timeIntervalSince(h.clock.now) + 1)
        #expect(try await h.store.creditsSpentToday(by: alice, now: h.clock.now) == 0)
        try await h.enqueue([h.newJob(alice, cost: 4)])
        await #expect(throws: StoreError.self) { try await h.enqueue([h.newJob(alice, cost: 1)]) }
        try await h.auditCredits(alice)
    }

    @Test(arguments: StoreEngine.all)
    func aCreatorAtItsRunningCapIsPassedOverWithoutDisturbingTheOthers(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", weight: 1)
        let bob = try await h.makeCreator("bob", weight: 1)
        let carol = try await h.makeCreator("carol", weight: 2)
        _ = try await h.store.setQuotas(Quotas(maxRunningJobs: 2), of: alice)
        for creator in [alice, bob, carol] { try await h.enqueue((0..<20).map { _ in h.newJob(creator) }) }

        let first = try await h.lease(14)
        func count(_ leases: [Lease], _ creator: CreatorID) -> Int { leases.count { $0.job.creatorID == creator } }
        #expect(count(first, alice) == 2)
        // The other twelve slots go 1:2, as if alice were not waiting.
        #expect(count(first, bob) == 4 && count(first, carol) == 8, "bob \(count(first, bob)), carol \(count(first, carol))")
        // While both of alice's run, she gets nothing more, one job at a time or in a batch.
        #expect(count(try await h.lease(1), alice) == 0)
        let more = try await h.lease(3)
        #expect(count(more, alice) == 0 && more.count == 3)
        // One of hers ends: she is served again, and first (she was passed over, not charged).
        let hers = try #require(first.first { $0.job.creatorID == alice })
        _ = try await h.store.complete([Completion(token: hers.token)], now: h.clock.now)
        let next = try await h.lease(1)
        #expect(count(next, alice) == 1)
        #expect(count(try await h.lease(5), alice) == 0)
    }

    @Test(arguments: StoreEngine.all)
    func theDefaultRunningCapHoldsForOneJobLeasesToo(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine, quotas: Quotas(maxRunningJobs: 1))
        let alice = try await h.makeCreator("alice")
        try await h.enqueue((0..<3).map { _ in h.newJob(alice) })
        let running = try #require(try await h.lease(1).first)
        #expect(try await h.lease(1).isEmpty)
        #expect(try await h.lease(5).isEmpty)
        _ = try await h.store.complete([Completion(token: running.token)], now: h.clock.now)
        #expect(try await h.lease(5).count == 1)
        // A creator's own cap beats the default.
        _ = try await h.store.setQuotas(Quotas(maxRunningJobs: 3), of: alice)
        #expect(try await h.lease(5).count == 1)
        #expect(try await h.job(running.job.id).status == .succeeded)
    }
}
