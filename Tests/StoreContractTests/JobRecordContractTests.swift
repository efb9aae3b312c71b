import AtelierCore
import AtelierStore
import Foundation
import Testing

/// Creators, queueing, reading, listing, idempotency and tenant isolation.
@Suite struct JobRecordContractTests {
    @Test(arguments: StoreEngine.all)
    func creatorsAreStoredAndNamesAreUnique(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice", weight: 3)
        let bob = try await h.makeCreator("bob")
        let stored = try #require(try await h.store.creator(id: alice))
        #expect(stored.name == "alice" && stored.weight == 3)
        #expect(try await h.store.creators().map(\.id) == [alice, bob])
        await #expect(throws: StoreError.self) {
            try await h.makeCreator("alice")
        }
        #expect(try await h.store.creators().count == 2)
    }

    @Test(arguments: StoreEngine.all)
    func queuedJobReadsBackExactly(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        var new = h.newJob(alice, cost: 7, priority: 5)
        new.negativePrompt = "blurry"
        new.params = JobParams(width: 640, height: 360, seed: 4_000_000_000, format: .gif, frames: 12, fps: 8, steps: 30)
        let created = try #require(try await h.enqueue([new]).first)
        let read = try await h.job(new.id)
        #expect(read == created)
        #expect(read.status == .queued && read.attempt == 0 && read.progress == 0)
        #expect(read.params == new.params && read.negativePrompt == "blurry" && read.cost == 7 && read.priority == 5)
        #expect(read.createdAt == h.clock.now && read.availableAt == h.clock.now)
    }

    @Test(arguments: StoreEngine.all)
    func filmParametersReadBackExactly(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        var film = h.newJob(alice)
        film.params = JobParams(width: 1280, height: 720, seed: 9, format: .mp4, frames: 288, fps: 24, scenes: 4,
                                transition: "wipeleft", preview: false)
        // A supplied plan, with text that needs escaping, and a scene job that carries it.
        film.params.plan = .object([
            "creative_direction": .object(["style": .string("ink \"wash\" — 墨")]),
            "scenes": .array([.object(["index": .number(1), "description": .string("a fox\nat dawn"), "duration_s": .number(2.5)])]),
        ])
        var scene = h.newJob(alice)
        scene.params = film.params
        scene.params.scene = 3
        scene.parentID = film.id
        var loop = h.newJob(alice)
        loop.params = JobParams(width: 320, height: 180, format: .gif, frames: 12, fps: 8)
        _ = try await h.enqueue([film, scene, loop])
        #expect(try await h.job(film.id).params == film.params)
        #expect(try await h.job(scene.id).params == scene.params)
        #expect(try await h.job(scene.id).parentID == film.id)
        #expect(try await h.job(loop.id).params == loop.params)
        let readLoop = try await h.job(loop.id)
        #expect(readLoop.params.transition == nil && readLoop.params.preview)
    }

    @Test(arguments: StoreEngine.all)
    func uploadsReadBackAndStayWithTheirCreator(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let bob = try await h.makeCreator("bob")
        let clip = Upload(
            id: UploadID(rawValue: "upl_clip")!, creatorID: alice, kind: .video, contentType: "video/mp4", byteCount: 123_456,
            sha256: String(repeating: "ab", count: 32), width: 640, height: 360, durationS: 4.25,
            features: ReferenceFeatures(palette: ["#102030", "#FFEEDD"], brightness: 0.42, motion: 0.07),
            storageKey: "\(alice)/upl_clip/source.mp4", createdAt: h.clock.now
        )
        var still = clip
        still.id = UploadID(rawValue: "upl_still")!
        still.kind = .image
        still.contentType = "image/png"
        still.durationS = nil
        still.features.motion = nil
        try await h.store.createUpload(clip)
        try await h.store.createUpload(still)
        #expect(try await h.store.upload(id: clip.id, scope: .creator(alice)) == clip)
        #expect(try await h.store.upload(id: still.id, scope: .operator) == still)
        #expect(try await h.store.upload(id: clip.id, scope: .creator(bob)) == nil)
        #expect(try await h.store.upload(id: UploadID(rawValue: "upl_none")!, scope: .operator) == nil)
    }

    @Test(arguments: StoreEngine.all)
    func textRoundTripsByteForByte(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let prompt = "un renard roux 🦊 dans la neige \"fraîche\"\n— 雪の中の狐\t\\ ; DROP TABLE jobs; --"
        var new = h.newJob(alice, prompt: prompt)
        new.negativePrompt = ""
        try await h.enqueue([new])
        let leased = try #require(try await h.lease(1).first)
        #expect(leased.job.prompt == prompt && leased.job.negativePrompt == "")
        let read = try await h.job(new.id)
        #expect(read.prompt == prompt && read.negativePrompt == "")
        var plain = h.newJob(alice)
        plain.negativePrompt = nil
        try await h.enqueue([plain])
        #expect(try await h.job(plain.id).negativePrompt == nil)

        // Absent, empty and present side by side in one batch (one array on PostgreSQL).
        let batch = [nil, "", "blurry, «low quality» 🙈", nil].map { negative in
            var job = h.newJob(alice, prompt: prompt)
            job.negativePrompt = negative
            return job
        }
        try await h.enqueue(batch)
        for job in batch { #expect(try await h.job(job.id).negativePrompt == job.negativePrompt) }
    }

    @Test(arguments: StoreEngine.all)
    func creatorsSeeOnlyTheirOwnJobs(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let bob = try await h.makeCreator("bob")
        let job = try #require(try await h.enqueue([h.newJob(alice)]).first)
        #expect(try await h.store.job(id: job.id, scope: .creator(alice)) != nil)
        #expect(try await h.store.job(id: job.id, scope: .creator(bob)) == nil)
        #expect(try await h.store.jobs(JobQuery(scope: .creator(bob))).jobs.isEmpty)
        #expect(try await h.store.cancel(id: job.id, scope: .creator(bob), now: h.clock.now) == .notFound)
        #expect(try await h.job(job.id).status == .queued)
    }

    @Test(arguments: StoreEngine.all)
    func listingPagesNewestFirstAndFiltersByStatus(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let jobs = try await h.enqueue((0..<7).map { _ in h.newJob(alice) })
        _ = try await h.lease(2)
        var seen: [JobID] = []
        var cursor: JobID?
        repeat {
            let page = try await h.store.jobs(JobQuery(scope: .creator(alice), limit: 3, cursor: cursor))
            #expect(page.jobs.count <= 3)
            seen += page.jobs.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == jobs.map(\.id).reversed())
        let running = try await h.store.jobs(JobQuery(scope: .creator(alice), status: .running))
        #expect(running.jobs.count == 2 && running.jobs.allSatisfy { $0.status == .running })
        let queued = try await h.store.jobs(JobQuery(scope: .creator(alice), status: .queued))
        #expect(queued.jobs.count == 5)
    }

    @Test(arguments: StoreEngine.all)
    func idempotencyKeyReturnsTheFirstJobOrConflicts(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let bob = try await h.makeCreator("bob")
        let first = try await h.store.enqueue([h.newJob(alice, key: "k-1", fingerprint: "f1")], now: h.clock.now)
        let again = try await h.store.enqueue([h.newJob(alice, key: "k-1", fingerprint: "f1")], now: h.clock.now)
        guard case .created(let job) = first.first, case .existing(let same) = again.first else {
            Issue.record("expected created then existing, got \(first) and \(again)")
            return
        }
        #expect(same.id == job.id)
        do {
            _ = try await h.store.enqueue([h.newJob(alice, key: "k-1", fingerprint: "other")], now: h.clock.now)
            Issue.record("a different request under the same key must conflict")
        } catch let error as StoreError {
            #expect(error.code == .idempotencyConflict && error.jobID == job.id)
        }
        // Keys are per creator.
        let bobs = try await h.store.enqueue([h.newJob(bob, key: "k-1", fingerprint: "other")], now: h.clock.now)
        guard case .created = bobs.first else { Issue.record("bob's key is his own"); return }
        #expect(try await h.store.jobs(JobQuery(scope: .operator)).jobs.count == 2)
        // The repeat did not make a second job ready.
        #expect(try await h.lease(5).count == 2)
    }

    @Test(arguments: StoreEngine.all)
    func aKeyUsedTwiceInOneBatchQueuesOneJobOrConflicts(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let bob = try await h.makeCreator("bob")
        let outcomes = try await h.store.enqueue(
            [h.newJob(alice, key: "k-1", fingerprint: "f1"), h.newJob(bob, key: "k-1", fingerprint: "f2"),
             h.newJob(alice, key: "k-1", fingerprint: "f1")],
            now: h.clock.now)
        guard outcomes.count == 3, case .created(let first) = outcomes[0], case .created(let bobs) = outcomes[1],
              case .existing(let repeated) = outcomes[2]
        else {
            Issue.record("expected created, created (another creator's key) and existing, got \(outcomes)")
            return
        }
        #expect(repeated.id == first.id && bobs.id != first.id)
        #expect(try await h.store.jobs(JobQuery(scope: .operator)).jobs.count == 2)
        // The same key with another request in one batch: the conflict names the first, and
        // the batch queues nothing.
        do {
            _ = try await h.store.enqueue(
                [h.newJob(alice, key: "k-2", fingerprint: "f1"), h.newJob(alice, key: "k-2", fingerprint: "other")],
                now: h.clock.now)
            Issue.record("a different request under a key used earlier in the batch must conflict")
        } catch let error as StoreError {
            #expect(error.code == .idempotencyConflict)
        }
        #expect(try await h.store.jobs(JobQuery(scope: .operator)).jobs.count == 2)
        #expect(try await h.lease(5).count == 2)
    }

    @Test(arguments: StoreEngine.all)
    func aBatchWithABadJobQueuesNothing(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let ghost = CreatorID(rawValue: "no-such-creator")!
        do {
            try await h.enqueue([h.newJob(alice), h.newJob(ghost)])
            Issue.record("an unknown creator must be rejected")
        } catch let error as StoreError {
            #expect(error.code == .unknownCreator)
        }
        var orphan = h.newJob(alice)
        orphan.parentID = JobID(rawValue: "missing-parent")!
        await #expect(throws: StoreError.self) { try await h.enqueue([orphan]) }
        #expect(try await h.store.jobs(JobQuery(scope: .operator)).jobs.isEmpty)
        #expect(try await h.lease(5).isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func parentMustBelongToTheSameCreator(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let bob = try await h.makeCreator("bob")
        let film = try #require(try await h.enqueue([h.newJob(alice)]).first)
        var scene = h.newJob(alice)
        scene.parentID = film.id
        #expect(try await h.enqueue([scene]).first?.parentID == film.id)
        var intruder = h.newJob(bob)
        intruder.parentID = film.id
        await #expect(throws: StoreError.self) { try await h.enqueue([intruder]) }
    }

    @Test(arguments: StoreEngine.all)
    func queueSummaryCountsPerCreator(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let bob = try await h.makeCreator("bob")
        try await h.enqueue([h.newJob(alice), h.newJob(alice), h.newJob(bob)])
        h.clock.advance(by: 5)
        try await h.enqueue([h.newJob(bob)])
        _ = try await h.lease(1)  // alice, who became ready first
        let summary = try await h.store.queueSummary(pool: .image)
        let byCreator = Dictionary(uniqueKeysWithValues: summary.map { ($0.creatorID, $0) })
        #expect(byCreator[alice]?.queued == 1 && byCreator[alice]?.running == 1)
        #expect(byCreator[bob]?.queued == 2 && byCreator[bob]?.running == 0)
        #expect(byCreator[bob]?.oldestQueuedAt == h.clock.now.addingTimeInterval(-5))
        #expect(try await h.store.queueSummary(pool: .video).isEmpty)
    }
}
