import AtelierCore
import AtelierStore
import Foundation
import Testing

/// Leases, fencing, heartbeats, completion, expiry, retries, cancellation and hand-back.
@Suite struct LeaseContractTests {
    private func oneLease(_ h: StoreHarness, maxAttempts: Int = 3) async throws -> Lease {
        let creator = try await h.makeCreator("alice-\(UUID().uuidString.prefix(6))")
        try await h.enqueue([h.newJob(creator, maxAttempts: maxAttempts)])
        return try #require(try await h.lease(1).first)
    }

    private func artifact(_ h: StoreHarness, for job: JobID, name: String = "output.png") -> Artifact {
        Artifact(id: h.ids.artifactID(), jobID: job, name: name, contentType: "image/png", byteCount: 3,
                 sha256: String(repeating: "ab", count: 32), storageKey: "k/\(job)/\(name)", createdAt: h.clock.now)
    }

    @Test(arguments: StoreEngine.all)
    func aLeaseStartsAnAttempt(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        let job = try await h.job(lease.job.id)
        #expect(job.status == .running && job.attempt == 1 && job.startedAt == h.clock.now)
        #expect(job.leaseHolder?.rawValue == "w1" && job.leaseExpiresAt == h.clock.now.addingTimeInterval(30))
        #expect(lease.job == job)
        #expect(try await h.lease(1).isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func heartbeatsRenewAndRecordProgress(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        h.clock.advance(by: 20)
        let outcome = try await h.store.heartbeat(lease.token, progress: 0.4, leaseDuration: 30, now: h.clock.now)
        #expect(outcome == .renewed(until: h.clock.now.addingTimeInterval(30), isCancelRequested: false))
        let job = try await h.job(lease.job.id)
        #expect(job.progress == 0.4 && job.leaseExpiresAt == h.clock.now.addingTimeInterval(30))
        // Renewed at t=20 for 30 s: not expired at t=45.
        h.clock.advance(by: 25)
        #expect(try await h.store.reclaimExpiredLeases(now: h.clock.now).isEmpty)
        // Out-of-range progress is clamped rather than stored.
        _ = try await h.store.heartbeat(lease.token, progress: 7, leaseDuration: 30, now: h.clock.now)
        #expect(try await h.job(lease.job.id).progress == 1)
    }

    @Test(arguments: StoreEngine.all)
    func completionRecordsArtifactsOnce(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        let files = [artifact(h, for: lease.job.id), artifact(h, for: lease.job.id, name: "preview.gif")]
        h.clock.advance(by: 3)
        #expect(try await h.store.complete([Completion(token: lease.token, artifacts: files)], now: h.clock.now) == [.completed])
        let job = try await h.job(lease.job.id)
        #expect(job.status == .succeeded && job.progress == 1 && job.finishedAt == h.clock.now)
        #expect(job.leaseHolder == nil && job.leaseExpiresAt == nil)
        #expect(try await h.store.artifacts(of: job.id) == files.sorted { $0.name < $1.name })
        // A duplicate completion changes nothing.
        let again = [Completion(token: lease.token, artifacts: [artifact(h, for: lease.job.id, name: "x.png")])]
        #expect(try await h.store.complete(again, now: h.clock.now) == [.leaseLost])
        #expect(try await h.store.artifacts(of: job.id).count == 2)
        #expect(try await h.store.heartbeat(lease.token, progress: nil, leaseDuration: 30, now: h.clock.now) == .leaseLost)
    }

    @Test(arguments: StoreEngine.all)
    func anExpiredLeaseRequeuesAndItsHolderIsFencedOff(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let stale = try await oneLease(h)
        h.clock.advance(by: 31)
        #expect(try await h.store.reclaimExpiredLeases(now: h.clock.now) == [ReclaimedLease(jobID: stale.job.id, status: .queued)])
        let requeued = try await h.job(stale.job.id)
        #expect(requeued.status == .queued && requeued.error?.code == "lease_expired" && requeued.leaseHolder == nil)
        let fresh = try #require(try await h.lease(1, worker: "w2").first)
        #expect(fresh.job.id == stale.job.id && fresh.job.attempt == 2 && fresh.token.fence > stale.token.fence)
        // The first holder comes back to life: every report is rejected and nothing changes.
        #expect(try await h.store.heartbeat(stale.token, progress: 0.9, leaseDuration: 30, now: h.clock.now) == .leaseLost)
        #expect(try await h.store.complete([Completion(token: stale.token, artifacts: [artifact(h, for: stale.job.id)])], now: h.clock.now) == [.leaseLost])
        #expect(try await h.store.fail(stale.token, error: JobError(code: "x", message: "y"), retryAt: nil, now: h.clock.now) == .leaseLost)
        #expect(try await h.store.release(stale.token, now: h.clock.now) == false)
        let job = try await h.job(stale.job.id)
        #expect(job.status == .running && job.progress == 0 && job.leaseHolder?.rawValue == "w2")
        #expect(try await h.store.artifacts(of: job.id).isEmpty)
        #expect(try await h.store.complete([Completion(token: fresh.token)], now: h.clock.now) == [.completed])
    }

    @Test(arguments: StoreEngine.all)
    func expiryWithNoAttemptsLeftFailsTheJob(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h, maxAttempts: 2)
        h.clock.advance(by: 31)
        _ = try await h.store.reclaimExpiredLeases(now: h.clock.now)
        _ = try #require(try await h.lease(1).first)
        h.clock.advance(by: 31)
        #expect(try await h.store.reclaimExpiredLeases(now: h.clock.now) == [ReclaimedLease(jobID: lease.job.id, status: .failed)])
        let job = try await h.job(lease.job.id)
        #expect(job.status == .failed && job.attempt == 2 && job.error?.code == "lease_expired" && job.finishedAt == h.clock.now)
        #expect(try await h.lease(1).isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func retryableFailuresWaitOutTheirBackoff(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        let retryAt = h.clock.now.addingTimeInterval(10)
        let error = JobError(code: "gpu_busy", message: "out of memory")
        #expect(try await h.store.fail(lease.token, error: error, retryAt: retryAt, now: h.clock.now) == .retrying(at: retryAt))
        let waiting = try await h.job(lease.job.id)
        #expect(waiting.status == .queued && waiting.availableAt == retryAt && waiting.error == error)
        #expect(try await h.lease(1).isEmpty)
        h.clock.advance(by: 9)
        #expect(try await h.store.promoteDueRetries(now: h.clock.now) == 0)
        h.clock.advance(by: 1)
        #expect(try await h.store.promoteDueRetries(now: h.clock.now) == 1)
        let second = try #require(try await h.lease(1).first)
        #expect(second.job.id == lease.job.id && second.job.attempt == 2)
    }

    @Test(arguments: StoreEngine.all)
    func finalFailuresAndExhaustedAttemptsFailAtOnce(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let fatal = try await oneLease(h)
        let error = JobError(code: "unsafe_prompt", message: "refused by policy")
        #expect(try await h.store.fail(fatal.token, error: error, retryAt: nil, now: h.clock.now) == .failed)
        let failed = try await h.job(fatal.job.id)
        #expect(failed.status == .failed && failed.error == error && failed.finishedAt == h.clock.now)

        let last = try await oneLease(h, maxAttempts: 1)
        #expect(try await h.store.fail(last.token, error: error, retryAt: h.clock.now, now: h.clock.now) == .failed)
        #expect(try await h.job(last.job.id).status == .failed)
    }

    @Test(arguments: StoreEngine.all)
    func aRetryDueNowIsReadyAtOnce(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        let ticket = h.store.workSignal.ticket(for: .image)
        let error = JobError(code: "flaky", message: "try again")
        #expect(try await h.store.fail(lease.token, error: error, retryAt: h.clock.now, now: h.clock.now) == .retrying(at: h.clock.now))
        #expect(h.store.workSignal.hasRung(since: ticket))
        #expect(try await h.lease(1).first?.job.id == lease.job.id)
    }

    @Test(arguments: StoreEngine.all)
    func cancellingAQueuedJobEndsItAtOnce(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let job = try #require(try await h.enqueue([h.newJob(alice)]).first)
        guard case .canceled(let canceled) = try await h.store.cancel(id: job.id, scope: .creator(alice), now: h.clock.now) else {
            Issue.record("expected canceled"); return
        }
        #expect(canceled.status == .canceled && canceled.finishedAt == h.clock.now)
        #expect(try await h.lease(1).isEmpty)
        #expect(try await h.store.cancel(id: job.id, scope: .creator(alice), now: h.clock.now) == .alreadyFinished(canceled))
    }

    @Test(arguments: StoreEngine.all)
    func cancellingARunningJobReachesItsWorker(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        guard case .cancelRequested(let flagged) = try await h.store.cancel(id: lease.job.id, scope: .operator, now: h.clock.now) else {
            Issue.record("expected cancelRequested"); return
        }
        #expect(flagged.status == .running && flagged.isCancelRequested)
        let beat = try await h.store.heartbeat(lease.token, progress: 0.5, leaseDuration: 30, now: h.clock.now)
        #expect(beat == .renewed(until: h.clock.now.addingTimeInterval(30), isCancelRequested: true))
        let stop = JobError(code: "canceled", message: "stopped")
        #expect(try await h.store.fail(lease.token, error: stop, retryAt: h.clock.now, now: h.clock.now) == .canceled)
        #expect(try await h.job(lease.job.id).status == .canceled)
        #expect(try await h.lease(1).isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func aCancelledJobWhoseWorkerVanishedEndsCanceledNotRetried(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        _ = try await h.store.cancel(id: lease.job.id, scope: .operator, now: h.clock.now)
        h.clock.advance(by: 31)
        #expect(try await h.store.reclaimExpiredLeases(now: h.clock.now) == [ReclaimedLease(jobID: lease.job.id, status: .canceled)])
        #expect(try await h.lease(1).isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func releasedLeasesGoBackWithoutUsingAnAttempt(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let lease = try await oneLease(h)
        #expect(try await h.store.release(lease.token, now: h.clock.now))
        let job = try await h.job(lease.job.id)
        #expect(job.status == .queued && job.attempt == 0 && job.leaseHolder == nil)
        let again = try #require(try await h.lease(1).first)
        #expect(again.job.attempt == 1 && again.token.fence > lease.token.fence)
        #expect(try await h.store.complete([Completion(token: lease.token)], now: h.clock.now) == [.leaseLost])
    }

    @Test(arguments: StoreEngine.all)
    func stateSurvivesARestart(engine: StoreEngine) async throws {
        var h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", weight: 2)
        let jobs = try await h.enqueue((0..<4).map { _ in h.newJob(alice) })
        let running = try #require(try await h.lease(1).first)
        _ = try await h.store.heartbeat(running.token, progress: 0.25, leaseDuration: 30, now: h.clock.now)
        try await h.restart()
        #expect(try await h.store.creator(id: alice)?.weight == 2)
        let job = try await h.job(running.job.id)
        #expect(job.status == .running && job.progress == 0.25)
        #expect(try await h.store.complete([Completion(token: running.token)], now: h.clock.now) == [.completed])
        #expect(try await h.lease(10).map(\.job.id) == jobs.dropFirst().map(\.id))
    }
}

/// Engine upkeep must never change what the store holds.
@Suite struct HousekeepingContractTests {
    @Test(arguments: StoreEngine.all)
    func housekeepingKeepsEveryJob(engine: StoreEngine) async throws {
        var h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let jobs = try await h.enqueue((0..<500).map { _ in h.newJob(alice) })
        let leased = try await h.lease(100)
        try await h.store.performHousekeeping()
        _ = try await h.store.complete(leased.map { Completion(token: $0.token) }, now: h.clock.now)
        try await h.store.performHousekeeping()
        try await h.restart()
        let page = try await h.store.jobs(JobQuery(scope: .operator, limit: 500))
        #expect(Set(page.jobs.map(\.id)) == Set(jobs.map(\.id)))
        #expect(page.jobs.filter { $0.status == .succeeded }.count == 100)
        #expect(try await h.lease(1_000).count == 400)
    }
}

/// Acknowledge-and-fetch: completing and leasing in one transaction.
@Suite struct CompleteThenLeaseContractTests {
    @Test(arguments: StoreEngine.all)
    func completingLeasesTheNextJobsInFairOrder(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let a = try await h.makeCreator("a")
        let b = try await h.makeCreator("b")
        let jobs = try await h.enqueue([h.newJob(a), h.newJob(a), h.newJob(b), h.newJob(a)])
        let first = try #require(try await h.lease(1).first)
        #expect(first.job.id == jobs[0].id)
        let request = LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w1")!, models: [.builtin], limit: 2)
        let (outcomes, leases) = try await h.store.complete([Completion(token: first.token)], thenLease: request, now: h.clock.now)
        #expect(outcomes == [.completed])
        // b has not been served yet, so b first, then a again.
        #expect(leases.map(\.job.id) == [jobs[2].id, jobs[1].id])
        #expect(leases.allSatisfy { $0.job.status == .running && $0.job.attempt == 1 })
        #expect(try await h.job(first.job.id).status == .succeeded)

        // A stale acknowledgement is refused, and the fetch still happens.
        let again = try await h.store.complete([Completion(token: first.token)], thenLease: request, now: h.clock.now)
        #expect(again.outcomes == [.leaseLost])
        #expect(again.leases.map(\.job.id) == [jobs[3].id])

        // Nothing to acknowledge and nothing left: both empty.
        let idle = try await h.store.complete([], thenLease: request, now: h.clock.now)
        #expect(idle.outcomes.isEmpty && idle.leases.isEmpty)
    }

    /// A worker slot's round trip: one job acknowledged, one fetched (PostgreSQL makes it one
    /// statement). Everything a completion records is recorded, the fetch is in fair order.
    @Test(arguments: StoreEngine.all)
    func acknowledgingOneJobRecordsItAllAndFetchesOneInFairOrder(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let a = try await h.makeCreator("a", credits: 10)
        let b = try await h.makeCreator("b", credits: 10)
        let jobs = try await h.enqueue([h.newJob(a, cost: 3), h.newJob(a, cost: 2), h.newJob(b, cost: 4)])
        let first = try #require(try await h.lease(1).first)
        #expect(first.job.id == jobs[0].id)
        let files = [
            Artifact(id: h.ids.artifactID(), jobID: first.job.id, name: "output.png", contentType: "image/png", byteCount: 3,
                     sha256: String(repeating: "ab", count: 32), storageKey: "a/\(first.job.id)/output.png", createdAt: h.clock.now),
            Artifact(id: h.ids.artifactID(), jobID: first.job.id, name: "preview.gif", contentType: "image/gif", byteCount: 5,
                     sha256: String(repeating: "cd", count: 32), storageKey: "a/\(first.job.id)/preview.gif", createdAt: h.clock.now),
        ]
        h.clock.advance(by: 2)
        let request = LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w2")!, models: [.builtin], limit: 1)
        let (outcomes, leases) = try await h.store.complete([Completion(token: first.token, artifacts: files)], thenLease: request,
                                                            now: h.clock.now)
        #expect(outcomes == [.completed])
        // b has not been served yet: b's job, leased to w2 now.
        #expect(leases.map(\.job.id) == [jobs[2].id])
        #expect(leases.first?.job.leaseHolder?.rawValue == "w2" && leases.first?.job.startedAt == h.clock.now)
        #expect(try await h.job(jobs[2].id) == leases.first?.job)
        let done = try await h.job(first.job.id)
        #expect(done.status == .succeeded && done.finishedAt == h.clock.now && done.charged == 3 && done.leaseHolder == nil)
        #expect(try await h.store.artifacts(of: done.id) == files)
        #expect(try await h.store.ledger.isLedgerEntryQueued(job: done.id))
        #expect(try await h.auditCredits(a) == CreditAccount(balance: 7, reserved: 2))
        #expect(try await h.creditLog(a).last.map { "\($0.kind.rawValue) \($0.amount) \($0.jobID?.rawValue ?? "")" }
                == "capture 3 \(done.id)")

        // The same token again: refused, nothing recorded twice, and the fetch still happens.
        let again = try await h.store.complete([Completion(token: first.token, artifacts: files)], thenLease: request,
                                               now: h.clock.now)
        #expect(again.outcomes == [.leaseLost] && again.leases.map(\.job.id) == [jobs[1].id])
        #expect(try await h.store.artifacts(of: done.id) == files)
        #expect(try await h.auditCredits(a) == CreditAccount(balance: 7, reserved: 2))

        // The last job acknowledged with nothing left to fetch.
        let last = try await h.store.complete([Completion(token: again.leases[0].token)], thenLease: request, now: h.clock.now)
        #expect(last.outcomes == [.completed] && last.leases.isEmpty)
        #expect(try await h.auditCredits(a) == CreditAccount(balance: 5, reserved: 0))
        #expect(try await h.auditCredits(b) == CreditAccount(balance: 10, reserved: 4))
    }

    /// The acknowledged job no longer counts against its creator's running cap when the next
    /// one is chosen.
    @Test(arguments: StoreEngine.all)
    func acknowledgingAJobAtTheRunningCapFetchesTheCreatorsNext(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine, quotas: Quotas(maxRunningJobs: 1))
        let a = try await h.makeCreator("a")
        let jobs = try await h.enqueue((0..<3).map { _ in h.newJob(a) })
        var lease = try #require(try await h.lease(1).first)
        #expect(try await h.lease(1).isEmpty)
        let request = LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w1")!, models: [.builtin], limit: 1)
        for expected in jobs.dropFirst() {
            let (outcomes, leases) = try await h.store.complete([Completion(token: lease.token)], thenLease: request, now: h.clock.now)
            #expect(outcomes == [.completed] && leases.map(\.job.id) == [expected.id])
            lease = try #require(leases.first)
            #expect(try await h.lease(1).isEmpty)
        }
    }

    /// A scene job acknowledged with a fetch settles its film as any completion does: the last
    /// scene makes the film ready, and that same round trip can fetch it.
    @Test(arguments: StoreEngine.all)
    func acknowledgingTheLastSceneFetchesItsFilmsCompose(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let owner = try await h.makeCreator("a", credits: 100)
        let params = JobParams(width: 320, height: 180, seed: 3, format: .mp4, frames: 36, fps: 12, scenes: 1)
        let film = NewJob(id: h.ids.jobID(), creatorID: owner, kind: .video, pool: .video, model: .builtin, prompt: "a harbour",
                          params: params, cost: 9, maxAttempts: 3, waitsForChildren: true)
        var sceneParams = params
        sceneParams.scene = 1
        let scene = NewJob(id: h.ids.jobID(), creatorID: owner, kind: .video, pool: .video, model: .builtin, prompt: "a harbour",
                           params: sceneParams, cost: 3, maxAttempts: 3, parentID: film.id)
        try await h.enqueue([film, scene])
        let leased = try #require(try await h.lease(1, pool: .video).first)
        #expect(leased.job.id == scene.id)
        let request = LeaseRequest(pool: .video, worker: WorkerID(rawValue: "w1")!, models: [.builtin], limit: 1)
        let (outcomes, leases) = try await h.store.complete([Completion(token: leased.token)], thenLease: request, now: h.clock.now)
        #expect(outcomes == [.completed])
        #expect(try await h.job(scene.id).status == .succeeded)
        #expect(leases.map(\.job.id) == [film.id])
        #expect(try await h.job(film.id).status == .running)
        // The scene draws on its film's reservation: nothing is captured until the film ends.
        #expect(try await h.auditCredits(owner) == CreditAccount(balance: 100, reserved: 9))
    }

    @Test(arguments: StoreEngine.all)
    func largeFetchesReturnWholeJobs(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let a = try await h.makeCreator("a")
        let jobs = try await h.enqueue((0..<60).map { _ in h.newJob(a, prompt: "a lighthouse at dusk") })
        let request = LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w1")!, models: [.builtin], limit: 40)
        let (_, leases) = try await h.store.complete([], thenLease: request, now: h.clock.now)
        #expect(leases.map(\.job.id) == jobs.prefix(40).map(\.id))
        for lease in leases {
            #expect(try await h.job(lease.job.id) == lease.job)
            #expect(lease.job.prompt == "a lighthouse at dusk" && lease.token.fence == 1)
        }
    }
}
