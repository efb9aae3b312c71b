import AtelierCore
import AtelierStore
import Foundation
import Testing

/// Credits (CreditRules): a job reserves its cost in the transaction that queues it, and the
/// transaction that ends it captures or releases that reservation; the log explains every
/// change to the cached account.
@Suite struct CreditContractTests {
    private func kinds(_ h: StoreHarness, _ creator: CreatorID) async throws -> [String] {
        try await h.creditLog(creator).map { "\($0.kind.rawValue) \($0.amount)" }
    }

    @Test(arguments: StoreEngine.all)
    func aJobReservesItsCostWhenQueuedAndSuccessCapturesIt(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", credits: 10)
        let first = h.newJob(alice, cost: 3)
        let second = h.newJob(alice, cost: 4)
        try await h.enqueue([first, second])
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 10, reserved: 7))
        #expect(try await kinds(h, alice) == ["grant 10", "reserve 3", "reserve 4"])
        #expect(try await h.creditLog(alice).last?.jobID == second.id)

        let leases = try await h.lease(2)
        let done = try #require(leases.first { $0.job.id == first.id })
        #expect(try await h.store.complete([Completion(token: done.token)], now: h.clock.now) == [.completed])
        #expect(try await h.job(first.id).charged == 3)
        #expect(try await h.job(second.id).charged == nil)
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 7, reserved: 4))
        #expect(try await kinds(h, alice).suffix(1) == ["capture 3"])
        // A completion that comes again with the same token changes nothing.
        #expect(try await h.store.complete([Completion(token: done.token)], now: h.clock.now) == [.leaseLost])
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 7, reserved: 4))
    }

    @Test(arguments: StoreEngine.all)
    func aCreatorShortOfCreditsQueuesNothingAndLeavesOthersAlone(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", credits: 5)
        let bob = try await h.makeCreator("bob", credits: 100)
        let batch = [h.newJob(bob, cost: 2), h.newJob(alice, cost: 3), h.newJob(alice, cost: 3)]
        await #expect {
            try await h.enqueue(batch)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .insufficientCredits && error?.creatorID == alice
                && error?.credits?.available == 5 && error?.credits?.required == 6
        }
        for job in batch { #expect(try await h.store.job(id: job.id, scope: .operator) == nil) }
        #expect(try await h.lease(10).isEmpty)
        #expect(try await kinds(h, alice) == ["grant 5"])
        #expect(try await h.auditCredits(bob) == CreditAccount(balance: 100, reserved: 0))

        // Exactly what is available can be spent; then nothing more.
        try await h.enqueue([h.newJob(alice, cost: 5)])
        #expect(try await h.auditCredits(alice).available == 0)
        await #expect(throws: StoreError.self) { try await h.enqueue([h.newJob(alice, cost: 1)]) }

        // Group commit: the short creator's submissions fail alone, the others go through.
        let coalescer = EnqueueCoalescer(store: h.store, clock: h.clock)
        let results = await withTaskGroup(of: (CreatorID, Bool).self) { group in
            for index in 0..<20 {
                let creator = index % 2 == 0 ? alice : bob
                let job = h.newJob(creator, cost: 1)
                group.addTask { (creator, (try? await coalescer.enqueue(job)) != nil) }
            }
            return await group.reduce(into: [(CreatorID, Bool)]()) { $0.append($1) }
        }
        let bobsAccepted = results.filter { $0.0 == bob }.map(\.1)
        let alicesAccepted = results.filter { $0.0 == alice }.map(\.1)
        #expect(bobsAccepted == Array(repeating: true, count: 10))
        #expect(alicesAccepted == Array(repeating: false, count: 10))
        #expect(try await h.auditCredits(bob) == CreditAccount(balance: 100, reserved: 10))
    }

    @Test(arguments: StoreEngine.all)
    func failureReleasesInFullAndCancellationChargesTheWorkDone(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", credits: 100)
        // Fails for good on its only attempt: released in full.
        let failing = h.newJob(alice, cost: 3, maxAttempts: 1)
        try await h.enqueue([failing])
        let failed = try #require(try await h.lease(1).first)
        #expect(try await h.store.fail(failed.token, error: JobError(code: "oom", message: "out of memory"), retryAt: h.clock.now,
                                       now: h.clock.now) == .failed)
        #expect(try await h.job(failing.id).charged == 0)
        #expect(try await kinds(h, alice).suffix(1) == ["release 3"])

        // Cancelled at half way: half of 5 (rounded down) is charged, the rest released.
        let halfway = h.newJob(alice, cost: 5)
        try await h.enqueue([halfway])
        let running = try #require(try await h.lease(1).first)
        _ = try await h.store.heartbeat(running.token, progress: 0.5, leaseDuration: 30, now: h.clock.now)
        guard case .cancelRequested = try await h.store.cancel(id: halfway.id, scope: .creator(alice), now: h.clock.now) else {
            Issue.record("a running job is flagged, not ended")
            return
        }
        #expect(try await h.job(halfway.id).charged == nil)
        #expect(try await h.store.fail(running.token, error: JobError(code: "canceled", message: "stopped"), retryAt: nil,
                                       now: h.clock.now) == .canceled)
        #expect(try await h.job(halfway.id).charged == 2)
        #expect(try await kinds(h, alice).suffix(2) == ["capture 2", "release 3"])

        // Cancelled before it started: released in full.
        let early = h.newJob(alice, cost: 4)
        try await h.enqueue([early])
        _ = try await h.store.cancel(id: early.id, scope: .creator(alice), now: h.clock.now)
        #expect(try await h.job(early.id).charged == 0)

        // Work thrown away by a lost lease is not the creator's: the job starts over from
        // nothing, so cancelling it while it waits again charges nothing.
        let restarted = h.newJob(alice, cost: 6)
        try await h.enqueue([restarted])
        let lost = try #require(try await h.lease(1).first)
        _ = try await h.store.heartbeat(lost.token, progress: 0.8, leaseDuration: 30, now: h.clock.now)
        h.clock.advance(by: 60)
        #expect(try await h.store.reclaimExpiredLeases(now: h.clock.now).map(\.status) == [.queued])
        #expect(try await h.job(restarted.id).progress == 0)
        _ = try await h.store.cancel(id: restarted.id, scope: .operator, now: h.clock.now)
        #expect(try await h.job(restarted.id).charged == 0)

        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 98, reserved: 0))
    }

    @Test(arguments: StoreEngine.all)
    func aFilmReservesOnceAndItsScenesDrawOnIt(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", credits: 30)
        func film() -> [NewJob] {
            let params = JobParams(width: 320, height: 180, seed: 3, format: .mp4, frames: 36, fps: 12, scenes: 2)
            let film = NewJob(id: h.ids.jobID(), creatorID: alice, kind: .video, pool: .video, model: .builtin,
                              prompt: "a harbour at dawn", params: params, cost: 9, waitsForChildren: true)
            return [film] + (1...2).map { number in
                var scene = params
                scene.scene = number
                return NewJob(id: h.ids.jobID(), creatorID: alice, kind: .video, pool: .video, model: .builtin,
                              prompt: film.prompt, params: scene, cost: 5, parentID: film.id)
            }
        }
        // The film's price, not the scenes' (whose costs add up to more here), is what is held.
        let made = film()
        try await h.enqueue(made)
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 30, reserved: 9))
        for lease in try await h.lease(2, pool: .video) {
            _ = try await h.store.complete([Completion(token: lease.token)], now: h.clock.now)
        }
        #expect(try await h.job(made[1].id).charged == nil)
        let compose = try #require(try await h.lease(1, pool: .video).first)
        #expect(compose.job.id == made[0].id)
        _ = try await h.store.complete([Completion(token: compose.token)], now: h.clock.now)
        #expect(try await h.job(made[0].id).charged == 9)
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 21, reserved: 0))

        // A film cancelled with one scene done and the other half way has made 0.9 × 0.75 of
        // itself: ⌊0.675 × 9⌋ = 6 credits.
        let cancelled = film()
        try await h.enqueue(cancelled)
        let scenes = try await h.lease(2, pool: .video)
        let done = try #require(scenes.first { $0.job.id == cancelled[1].id })
        let half = try #require(scenes.first { $0.job.id == cancelled[2].id })
        _ = try await h.store.complete([Completion(token: done.token)], now: h.clock.now)
        _ = try await h.store.heartbeat(half.token, progress: 0.5, leaseDuration: 30, now: h.clock.now)
        _ = try await h.store.cancel(id: cancelled[0].id, scope: .creator(alice), now: h.clock.now)
        #expect(try await h.job(cancelled[0].id).charged == 6)
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 15, reserved: 0))
        // The running scene learns it at its next heartbeat and ends without a charge of its own.
        #expect(try await h.store.fail(half.token, error: JobError(code: "canceled", message: "stopped"), retryAt: nil,
                                       now: h.clock.now) == .canceled)
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 15, reserved: 0))

        // A replayed film (same idempotency key) reserves nothing the second time.
        var keyed = film()
        keyed[0].idempotencyKey = "film-1"
        keyed[0].requestFingerprint = "f"
        try await h.enqueue(keyed)
        var replay = film()
        replay[0].idempotencyKey = "film-1"
        replay[0].requestFingerprint = "f"
        let outcomes = try await h.store.enqueue(replay, now: h.clock.now)
        #expect(outcomes.allSatisfy { if case .existing = $0 { true } else { false } })
        #expect(try await h.auditCredits(alice) == CreditAccount(balance: 15, reserved: 9))
    }

    @Test(arguments: StoreEngine.all)
    func grantsAndAdjustmentsAreLoggedAndNeverOverdraw(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", credits: 0)
        await #expect(throws: StoreError.self) { try await h.enqueue([h.newJob(alice, cost: 1)]) }
        let granted = try await h.store.adjustCredits(
            CreditChange(creatorID: alice, amount: 50, actor: "admin", reason: "monthly allowance"), now: h.clock.now)
        #expect(granted == CreditAccount(balance: 50, reserved: 0))
        try await h.enqueue([h.newJob(alice, cost: 20)])
        // 30 are available: taking 31 away would leave the open job's reservation uncovered.
        await #expect {
            _ = try await h.store.adjustCredits(
                CreditChange(creatorID: alice, amount: -31, actor: "admin", reason: "correction"), now: h.clock.now)
        } throws: { ($0 as? StoreError)?.code == .insufficientCredits }
        let adjusted = try await h.store.adjustCredits(
            CreditChange(creatorID: alice, amount: -30, actor: "admin", reason: "correction"), now: h.clock.now)
        #expect(adjusted == CreditAccount(balance: 20, reserved: 20))
        await #expect {
            _ = try await h.store.adjustCredits(
                CreditChange(creatorID: CreatorID(rawValue: "cr_missing")!, amount: 5, actor: "admin", reason: "x"), now: h.clock.now)
        } throws: { ($0 as? StoreError)?.code == .unknownCreator }

        let log = try await h.creditLog(alice)
        #expect(log.map { "\($0.kind.rawValue) \($0.amount) \($0.actor)" }
                == ["grant 50 admin", "reserve 20 \(alice.rawValue)", "adjustment -30 admin"])
        #expect(log.last?.reason == "correction")
        // Pages, newest first, cut by the cursor.
        let first = try await h.store.creditTransactions(CreditTransactionQuery(creatorID: alice, limit: 2))
        #expect(first.transactions.map(\.kind) == [.adjustment, .reserve])
        let second = try await h.store.creditTransactions(CreditTransactionQuery(creatorID: alice, limit: 2, cursor: first.nextCursor))
        #expect(second.transactions.map(\.kind) == [.grant])
        #expect(second.nextCursor == nil)
        try await h.auditCredits(alice)
    }
}
