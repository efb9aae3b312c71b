import AtelierCore
import AtelierStore
import Foundation
import Testing

/// A film and its scene jobs: the film waits (never dispatched, never reclaimed) until its last
/// scene job succeeds, then is ready as the compose step; a scene that fails for good fails the
/// film by name and cancels its siblings; cancelling the film cancels its scenes.
@Suite struct FilmFamilyContractTests {
    /// A film of `scenes` scene jobs, queued together as the API queues them.
    private func makeFilm(_ h: StoreHarness, scenes: Int, maxAttempts: Int = 3, key: String? = nil,
                      creator: CreatorID? = nil) async throws -> (film: NewJob, scenes: [NewJob]) {
        let owner: CreatorID
        if let creator { owner = creator } else { owner = try await h.makeCreator("alice-\(UUID().uuidString.prefix(6))") }
        let params = JobParams(width: 320, height: 180, seed: 3, format: .mp4, frames: 36, fps: 12, scenes: scenes)
        let film = NewJob(id: h.ids.jobID(), creatorID: owner, kind: .video, pool: .video, model: .builtin,
                          prompt: "a harbour at dawn", params: params, cost: 9, maxAttempts: maxAttempts,
                          waitsForChildren: true, idempotencyKey: key, requestFingerprint: key.map { _ in "f" })
        let children = (1...scenes).map { number in
            var sceneParams = params
            sceneParams.scene = number
            return NewJob(id: h.ids.jobID(), creatorID: owner, kind: .video, pool: .video, model: .builtin,
                          prompt: film.prompt, params: sceneParams, cost: 3, maxAttempts: maxAttempts, parentID: film.id)
        }
        return (film, children)
    }

    private func clip(_ h: StoreHarness, for job: JobID, scene: Int) -> Artifact {
        Artifact(id: h.ids.artifactID(), jobID: job, name: "scene-\(scene).mp4", contentType: "video/mp4", byteCount: 3,
                 sha256: String(repeating: "cd", count: 32), storageKey: "k/\(job)/scene-\(scene).mp4", createdAt: h.clock.now)
    }

    private func leases(_ h: StoreHarness, _ limit: Int) async throws -> [Int: Lease] {
        var byScene: [Int: Lease] = [:]
        for lease in try await h.lease(limit, pool: .video) { byScene[lease.job.params.scene ?? 0] = lease }
        return byScene
    }

    @Test(arguments: StoreEngine.all)
    func theFilmWaitsForItsScenesThenIsReadyToCompose(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let (film, scenes) = try await makeFilm(h, scenes: 2)
        let queued = try await h.enqueue([film] + scenes)
        #expect(queued[0].status == .running && queued[0].startedAt == h.clock.now)
        #expect(queued.dropFirst().allSatisfy { $0.status == .queued && $0.parentID == film.id })
        #expect(try await h.store.children(of: film.id).map(\.params.scene) == [1, 2])

        // Only the scenes are dispatched; the film never is while they run.
        let leased = try await leases(h, 10)
        #expect(Set(leased.keys) == [1, 2])
        _ = try await h.store.heartbeat(leased[2]!.token, progress: 0.5, leaseDuration: 30, now: h.clock.now)
        #expect(abs(try await h.job(film.id).progress - 0.9 * 0.25) < 1e-9)
        h.clock.advance(by: 60)
        // Waiting is not a lease: nothing of the film expires.
        let reclaimed = try await h.store.reclaimExpiredLeases(now: h.clock.now)
        #expect(Set(reclaimed.map(\.jobID)) == Set(scenes.map(\.id)))
        #expect(try await h.job(film.id).status == .running)

        let again = try await leases(h, 10)
        #expect(Set(again.keys) == [1, 2])
        _ = try await h.store.heartbeat(again[2]!.token, progress: 0.2, leaseDuration: 30, now: h.clock.now)
        #expect(try await h.store.complete([Completion(token: again[1]!.token, artifacts: [clip(h, for: scenes[0].id, scene: 1)])],
                                           now: h.clock.now) == [.completed])
        let halfway = try await h.job(film.id)
        #expect(halfway.status == .running && abs(halfway.progress - 0.9 * (1 + 0.2) / 2) < 1e-9)
        #expect(try await h.lease(10, pool: .video).isEmpty)

        h.clock.advance(by: 1)
        #expect(try await h.store.complete([Completion(token: again[2]!.token, artifacts: [clip(h, for: scenes[1].id, scene: 2)])],
                                           now: h.clock.now) == [.completed])
        let ready = try await h.job(film.id)
        #expect(ready.status == .queued && ready.progress == 0.9)
        let compose = try #require(try await h.lease(10, pool: .video).first)
        #expect(compose.job.id == film.id && compose.job.attempt == 1)
        #expect(try await h.store.artifacts(of: scenes[1].id).map(\.name) == ["scene-2.mp4"])
        #expect(try await h.store.complete([Completion(token: compose.token, artifacts: [])], now: h.clock.now) == [.completed])
        #expect(try await h.job(film.id).status == .succeeded)
    }

    @Test(arguments: StoreEngine.all)
    func aSceneThatFailsForGoodFailsTheFilmByNameAndCancelsTheOthers(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let (film, scenes) = try await makeFilm(h, scenes: 3, maxAttempts: 2)
        try await h.enqueue([film] + scenes)
        #expect(try await h.store.jobs(JobQuery(scope: .operator, status: .running)).jobs.map(\.id) == [film.id])
        let leased = try await leases(h, 2)
        #expect(leased.count == 2)
        let failing = try #require(leased.keys.min())
        let busy = try #require(leased.keys.max())
        let waiting = try #require(Set([1, 2, 3]).subtracting(leased.keys).first)
        let cause = JobError(code: "gpu_busy", message: "device busy")
        // The first failure is retried like any job's.
        #expect(try await h.store.fail(leased[failing]!.token, error: cause, retryAt: h.clock.now, now: h.clock.now)
                == .retrying(at: h.clock.now))
        #expect(try await h.job(film.id).status == .running)
        let retried = try #require(try await leases(h, 1).values.first)
        #expect(retried.job.params.scene == failing || retried.job.params.scene == waiting)
        // Whichever came back, the scene that fails fails for good on its last attempt.
        var last = retried
        if retried.job.params.scene != failing {
            last = try #require(try await leases(h, 1)[failing])
        }
        #expect(try await h.store.fail(last.token, error: cause, retryAt: h.clock.now, now: h.clock.now) == .failed)

        let failed = try await h.job(film.id)
        #expect(failed.status == .failed && failed.finishedAt == h.clock.now)
        #expect(failed.error?.code == "scene_failed")
        #expect(failed.error?.message.contains("scene \(failing) ") == true, "\(String(describing: failed.error))")
        #expect(failed.error?.message.contains("gpu_busy") == true)
        // The running sibling is asked to stop; a queued one ends at once and is never dispatched.
        let siblings = try await h.store.children(of: film.id)
        let busyJob = try #require(siblings.first { $0.params.scene == busy })
        #expect(busyJob.status == .running && busyJob.isCancelRequested)
        if retried.job.params.scene != failing {
            // The queued scene was leased above (it came back first): it is running too.
            #expect(siblings.first { $0.params.scene == waiting }?.isCancelRequested == true)
        } else {
            #expect(siblings.first { $0.params.scene == waiting }?.status == .canceled)
        }
        #expect(try await h.lease(10, pool: .video).isEmpty)
        #expect(try await h.store.queueSummary(pool: .video).allSatisfy { $0.queued == 0 })
        // The busy sibling's worker learns it at its heartbeat and ends it cancelled; the film stays failed.
        let busyLease = try #require(leased[busy])
        #expect(try await h.store.heartbeat(busyLease.token, progress: 0.5, leaseDuration: 30, now: h.clock.now)
                == .renewed(until: h.clock.now.addingTimeInterval(30), isCancelRequested: true))
        #expect(try await h.store.fail(busyLease.token, error: JobError(code: "canceled", message: "stopped"), retryAt: nil,
                                       now: h.clock.now) == .canceled)
        let after = try await h.job(film.id)
        #expect(after.status == .failed && after.error == failed.error)
    }

    @Test(arguments: StoreEngine.all)
    func cancellingTheFilmCancelsItsScenes(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let (film, scenes) = try await makeFilm(h, scenes: 3)
        try await h.enqueue([film] + scenes)
        let running = try #require(try await h.lease(1, pool: .video).first)
        h.clock.advance(by: 2)
        guard case .canceled(let canceled) = try await h.store.cancel(id: film.id, scope: .creator(film.creatorID), now: h.clock.now) else {
            Issue.record("a waiting film is cancelled at once")
            return
        }
        #expect(canceled.status == .canceled && canceled.finishedAt == h.clock.now)
        let children = try await h.store.children(of: film.id)
        #expect(children.filter { $0.status == .canceled }.count == 2)
        let stillRunning = try #require(children.first { $0.id == running.job.id })
        #expect(stillRunning.status == .running && stillRunning.isCancelRequested)
        #expect(try await h.store.heartbeat(running.token, progress: 0.2, leaseDuration: 30, now: h.clock.now)
                == .renewed(until: h.clock.now.addingTimeInterval(30), isCancelRequested: true))
        #expect(try await h.store.fail(running.token, error: JobError(code: "canceled", message: "stopped"), retryAt: nil,
                                       now: h.clock.now) == .canceled)
        #expect(try await h.store.children(of: film.id).allSatisfy { $0.status == .canceled })
        #expect(try await h.job(film.id).status == .canceled)
        #expect(try await h.lease(10, pool: .video).isEmpty)
        #expect(try await h.store.queueSummary(pool: .video).allSatisfy { $0.queued == 0 && $0.running == 0 })
        // Cancelling a scene job on its own cancels its film too.
        let (other, otherScenes) = try await makeFilm(h, scenes: 2, creator: film.creatorID)
        try await h.enqueue([other] + otherScenes)
        guard case .canceled = try await h.store.cancel(id: otherScenes[1].id, scope: .creator(film.creatorID), now: h.clock.now) else {
            Issue.record("a queued scene job is cancelled at once")
            return
        }
        #expect(try await h.job(other.id).status == .canceled)
        #expect(try await h.job(otherScenes[0].id).status == .canceled)
    }

    @Test(arguments: StoreEngine.all)
    func aSceneWhoseLastLeaseExpiresFailsTheFilm(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let (film, scenes) = try await makeFilm(h, scenes: 2, maxAttempts: 1)
        try await h.enqueue([film] + scenes)
        let leased = try await leases(h, 1)
        let scene = try #require(leased.keys.first)
        h.clock.advance(by: 31)
        _ = try await h.store.reclaimExpiredLeases(now: h.clock.now)
        let failed = try await h.job(film.id)
        #expect(failed.status == .failed && failed.error?.code == "scene_failed")
        #expect(failed.error?.message.contains("scene \(scene) ") == true && failed.error?.message.contains("lease_expired") == true)
        #expect(try await h.store.children(of: film.id).filter { $0.params.scene != scene }.allSatisfy { $0.status == .canceled })
    }

    @Test(arguments: StoreEngine.all)
    func aReplayedFilmQueuesNoSecondSetOfScenes(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let (film, scenes) = try await makeFilm(h, scenes: 2, key: "film-1")
        let first = try await h.store.enqueue([film] + scenes, now: h.clock.now)
        #expect(first.allSatisfy { if case .created = $0 { true } else { false } })
        // The same request again, as the API builds it: new ids, the same key.
        let (replay, replayScenes) = try await makeFilm(h, scenes: 2, key: "film-1", creator: film.creatorID)
        let second = try await h.store.enqueue([replay] + replayScenes, now: h.clock.now)
        #expect(second.map(\.job.id) == [film.id, film.id, film.id])
        #expect(try await h.store.children(of: film.id).count == 2)
        #expect(try await h.store.children(of: replay.id).isEmpty)
        #expect(try await h.lease(10, pool: .video).count == 2)
    }
}
