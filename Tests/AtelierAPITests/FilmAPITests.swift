import AtelierCore
import AtelierMedia
import AtelierPlanning
import AtelierWire
import Foundation
import Testing

@Suite("Films over HTTP")
struct FilmAPITests {
    func probe(_ api: API, _ artifact: ArtifactResource) async throws -> MediaProbe {
        let response = try await api.send(.GET, artifact.url, authorized: false)
        #expect(response.status == 200)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("film-\(UUID().uuidString)-\(artifact.name)")
        try response.body.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let path = ProcessInfo.processInfo.environment["PATH"]
        let ffprobe = try #require(FFprobe.locate(besides: FFmpeg.locate(searchPath: path), searchPath: path))
        return try await ffprobe.probe(file)
    }

    @Test("a video job with format mp4 is planned, rendered scene by scene and composed; ffprobe agrees with the request")
    func mp4Film() async throws {
        try await withServer(workers: 2) { server in
            let (alice, _) = try await server.creator()
            let submitted = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "A harbour at dawn. Boats sail out to sea. Gulls circle a lighthouse at night",
                params: ParamsBody(width: 320, height: 180, seed: 5, format: .mp4, fps: 12, durationS: 3, scenes: 3,
                                   transition: "dissolve")))
            #expect(submitted.params.format == .mp4)
            #expect(submitted.params.frames == 36)
            #expect(submitted.params.scenes == 3)
            #expect(submitted.params.transition == "dissolve")
            let done = try await alice.waitForJob(submitted.id, timeout: .seconds(180)) { $0.status.isTerminal }
            #expect(done.status == .succeeded, "\(String(describing: done.error))")
            #expect(done.progress == 1)
            #expect(done.artifacts.map(\.name).sorted() == ["film.mp4", "poster.png", "preview.gif"])
            #expect(done.artifacts.first { $0.name == "film.mp4" }?.contentType == "video/mp4")
            let film = try await probe(alice, try #require(done.artifacts.first { $0.name == "film.mp4" }))
            #expect(film.codec == "h264")
            #expect(film.pixelFormat == "yuv420p")
            #expect(film.width == 320 && film.height == 180)
            #expect(abs(film.duration - 3) <= 3 * 0.05, "duration \(film.duration)")
            let poster = try await probe(alice, try #require(done.artifacts.first { $0.name == "poster.png" }))
            #expect(poster.codec == "png" && poster.width == 320)
            // Each scene was a job of its own, a child of the film, with its clip as its artifact.
            let sceneJobs = try await scenes(of: submitted.id, alice)
            #expect(sceneJobs.map(\.params.scene) == [1, 2, 3])
            #expect(sceneJobs.allSatisfy { $0.status == .succeeded && $0.kind == .video && $0.params.format == .mp4 })
            #expect(sceneJobs.map { $0.artifacts.map(\.name) } == [["scene-1.mp4"], ["scene-2.mp4"], ["scene-3.mp4"]])
            // The job's read-back carries the film's settings.
            let read = try await alice.job(submitted.id)
            #expect(read.params.durationS == 3)
            #expect(read.params.preview)
        }
    }

    @Test("a WebM film without a preview is VP9 with a poster and nothing else")
    func webmFilm() async throws {
        try await withServer(workers: 2) { server in
            let (alice, _) = try await server.creator()
            let submitted = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "a forest in fog",
                params: ParamsBody(width: 256, height: 144, format: .webm, fps: 10, durationS: 2, preview: false)))
            let done = try await alice.waitForJob(submitted.id, timeout: .seconds(180)) { $0.status.isTerminal }
            #expect(done.status == .succeeded, "\(String(describing: done.error))")
            #expect(done.artifacts.map(\.name).sorted() == ["film.webm", "poster.png"])
            let film = try await probe(alice, try #require(done.artifacts.first { $0.name == "film.webm" }))
            #expect(film.codec == "vp9")
            #expect(abs(film.duration - 2) <= 2 * 0.05 + 1e-6, "duration \(film.duration)")
        }
    }

    /// The film's scene jobs, as the creator sees them in the job list.
    func scenes(of film: String, _ api: API) async throws -> [JobResource] {
        try await api.send(.GET, "/v1/jobs?limit=100").decode(ListBody<JobResource>.self).data
            .filter { $0.parentID == film }.sorted { ($0.params.scene ?? 0) < ($1.params.scene ?? 0) }
    }

    @Test("cancellation cascades: cancelling a film stops its running scene jobs at their next heartbeat, ends the queued ones, and leaves no scratch files")
    func cancelRunningFilm() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-scratch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Four worker slots give the video pool two.
        try await withServer(workers: 4, configure: { $0.scratchDirectory = scratch }) { server in
            let (alice, _) = try await server.creator()
            // Three minutes of 720p in three scenes: far longer than the test waits. Two video
            // slots take a scene each; the third waits in the queue.
            let long = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "a storm over the sea at night",
                params: ParamsBody(width: 1280, height: 720, format: .mp4, fps: 24, durationS: 120, scenes: 3)))
            #expect(long.status == .running)
            try await within(.seconds(60), "two scene jobs to run and make their scratch folders") {
                while try await scenes(of: long.id, alice).filter({ $0.status == .running }).count < 2
                        || FileManager.default.contentsOfDirectory(atPath: scratch.path).count < 2 {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let before = try await scenes(of: long.id, alice)
            #expect(before.count == 3 && before.map(\.params.scene) == [1, 2, 3])
            #expect(before.filter { $0.status == .queued }.count == 1)
            let cancelled = try await alice.send(.POST, "/v1/jobs/\(long.id)/cancel")
            #expect(cancelled.status == 200)
            #expect(try cancelled.decode(JobResource.self).status == .canceled)
            try await within(.seconds(60), "every scene job to end") {
                while try await scenes(of: long.id, alice).contains(where: { !$0.status.isTerminal }) {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let after = try await scenes(of: long.id, alice)
            #expect(after.allSatisfy { $0.status == .canceled && $0.artifacts.isEmpty }, "\(after.map(\.status))")
            let ended = try await alice.job(long.id)
            #expect(ended.status == .canceled && ended.artifacts.isEmpty)
            try await within(.seconds(30), "the scratch folders to be removed") {
                while try !FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }

            let short = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "a meadow at dawn",
                params: ParamsBody(width: 128, height: 72, format: .mp4, fps: 8, durationS: 1)))
            #expect(try await alice.waitForJob(short.id) { $0.status.isTerminal }.status == .succeeded)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        }
    }

    @Test("a scene that always fails is retried like any job, then fails the film with an error naming it; its siblings are cancelled")
    func aSceneThatAlwaysFails() async throws {
        // No worker in the server: the test is the worker, over the worker protocol.
        try await withServer(workers: 0) { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let film = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "A harbour at dawn. Boats sail out. Gulls at night",
                params: ParamsBody(width: 320, height: 180, format: .mp4, fps: 12, durationS: 3, scenes: 3)))
            let leased = try await worker.lease(pool: "video", limit: 10)
            // The film itself is not dispatched while its scenes are to be made.
            #expect(Set(leased.map(\.job.id)) == Set(try await scenes(of: film.id, alice).map(\.id)))
            let byScene = Dictionary(uniqueKeysWithValues: leased.map { ($0.job.params.scene ?? 0, $0) })
            #expect(Set(byScene.keys) == [1, 2, 3])

            let one = try await worker.finish(byScene[1]!, name: "scene-1.mp4", data: Data("clip".utf8))
            #expect(one.status == 200, "\(one.text)")
            #expect(try await worker.heartbeat(byScene[3]!, progress: 0.5).status == 200)
            let partway = try await alice.job(film.id)
            #expect(partway.status == .running)
            #expect(abs(partway.progress - 0.9 * 1.5 / 3) < 1e-9, "\(partway.progress)")

            // Scene 2 fails on every attempt; each retry comes back to the worker.
            var attempt = byScene[2]!
            var outcomes: [String] = []
            while true {
                let reply = try await worker.fail(attempt, retryable: true).decode(FailReplyBody.self)
                outcomes.append(reply.outcome)
                guard reply.outcome == "retrying" else { break }
                attempt = try #require(try await worker.lease(pool: "video", limit: 1, wait: 15).first)
                #expect(attempt.job.params.scene == 2)
            }
            #expect(outcomes == ["retrying", "retrying", "failed"])

            let failed = try await alice.job(film.id)
            #expect(failed.status == .failed)
            #expect(failed.error?.code == "scene_failed")
            #expect(failed.error?.message.hasPrefix("scene 2 of the film failed") == true, "\(String(describing: failed.error))")
            #expect(failed.error?.message.contains("gpu_busy") == true)
            #expect(failed.artifacts.isEmpty)
            // Scene 3 is still running on the worker: its next heartbeat asks it to stop.
            let stop = try await worker.heartbeat(byScene[3]!, progress: 0.6).decode(HeartbeatReplyBody.self)
            #expect(stop.cancelRequested)
            let three = try await worker.api.send(.POST, "/v1/worker/jobs/\(byScene[3]!.job.id)/fail",
                                                  json: FailCallBody(fence: byScene[3]!.fence, error: ErrorBody(code: "canceled", message: "stopped"),
                                                                     retryable: false))
            #expect(try three.decode(FailReplyBody.self).outcome == "canceled")
            let statuses = try await scenes(of: film.id, alice).map(\.status)
            #expect(statuses == [.succeeded, .failed, .canceled])
            #expect(try await alice.job(film.id).status == .failed)
        }
    }

    @Test("a plan from /v1/parse, edited, is the plan the film is made from; an unusable plan is a 422 problem")
    func suppliedPlan() async throws {
        try await withServer(workers: 2) { server in
            let (alice, _) = try await server.creator()
            let prompt = "A fox wakes at dawn. It hunts in the snow. It sleeps in its den"
            let first = try await alice.send(.POST, "/v1/parse", json: PlanRequest(
                prompt: prompt, options: PlanOptions(kind: "video", scenes: 3, durationS: 3))).decode(PlanResult.self)
            let edited = try await alice.send(.POST, "/v1/parse", json: PlanRequest(
                prompt: nil, plan: first.plan, edit: "make scene 2 a night shot, slower")).decode(PlanResult.self)
            #expect(edited.scenes[1].timeOfDay == "night" && edited.scenes[1].durationS > edited.scenes[0].durationS)

            // The whole /v1/parse answer goes in as the plan: what is not a plan's field is ignored.
            let submitted = try await alice.submit(CreateJobBody(
                kind: .video, prompt: prompt,
                params: ParamsBody(width: 320, height: 180, format: .mp4, fps: 12, durationS: 3),
                plan: try JSONValue(encoding: edited)))
            let done = try await alice.waitForJob(submitted.id, timeout: .seconds(180)) { $0.status.isTerminal }
            #expect(done.status == .succeeded, "\(String(describing: done.error))")
            let used = try #require(try done.params.plan?.decode(as: Plan.self))
            #expect(used.scenes.map(\.description) == edited.scenes.map(\.description))
            #expect(used.scenes.map(\.durationS) == edited.scenes.map(\.durationS))
            #expect(used.scenes[1].timeOfDay == "night")
            #expect(done.params.scenes == 3)
            // Each scene job renders its part of that plan: the slower scene is the longer (dearer) job.
            let sceneJobs = try await scenes(of: submitted.id, alice)
            #expect(sceneJobs.count == 3)
            #expect(sceneJobs.allSatisfy { $0.params.plan == done.params.plan })
            #expect(sceneJobs[1].cost > sceneJobs[0].cost, "\(sceneJobs.map(\.cost))")
            let film = try await probe(alice, try #require(done.artifacts.first { $0.name == "film.mp4" }))
            #expect(abs(film.duration - 3) <= 3 * 0.05, "duration \(film.duration)")

            let unusable: [(CreateJobBody, String)] = [
                (CreateJobBody(kind: .video, prompt: prompt, params: ParamsBody(width: 320, height: 180, format: .mp4),
                               plan: .object(["scenes": .string("three")])), "is not a usable plan"),
                (CreateJobBody(kind: .image, prompt: prompt, plan: try JSONValue(encoding: edited)), "is for films"),
            ]
            for (body, message) in unusable {
                let response = try await alice.send(.POST, "/v1/jobs", json: body)
                #expect(response.status == 422, "\(response.text)")
                #expect(response.problem?.errors?.first?.field == "plan", "\(response.text)")
                #expect(response.problem?.errors?.first?.message.hasPrefix(message) == true, "\(response.text)")
            }
        }
    }

    @Test("film settings out of range are 422 problems naming the field")
    func invalidFilms() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let cases: [(CreateJobBody, String)] = [
                (CreateJobBody(kind: .video, prompt: "x", params: ParamsBody(width: 321, format: .mp4)), "params.width"),
                (CreateJobBody(kind: .image, prompt: "x", params: ParamsBody(format: .mp4)), "params.format"),
                (CreateJobBody(kind: .video, prompt: "x", params: ParamsBody(format: .webm, durationS: 200)), "params.duration_s"),
                (CreateJobBody(kind: .video, prompt: "x", params: ParamsBody(format: .mp4, durationS: 1e300)), "params.duration_s"),
                (CreateJobBody(kind: .video, prompt: "x", params: ParamsBody(format: .mp4, scenes: 13)), "params.scenes"),
                (CreateJobBody(kind: .video, prompt: "x", params: ParamsBody(format: .mp4, transition: "spin")), "params.transition"),
            ]
            for (body, field) in cases {
                let response = try await alice.send(.POST, "/v1/jobs", json: body)
                #expect(response.status == 422, "\(field): \(response.text)")
                #expect(response.problem?.errors?.first?.field == field, "\(response.text)")
            }
            #expect(try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.isEmpty)
        }
    }

    @Test("without ffmpeg the server starts, PNG images still work, and video submissions get a clear problem")
    func missingFFmpeg() async throws {
        try await withServer(workers: 1, configure: { $0.environment["ATELIER_FFMPEG"] = "/nonexistent/ffmpeg" }) { server in
            let (alice, _) = try await server.creator()
            for body in [CreateJobBody(kind: .video, prompt: "waves", params: ParamsBody(width: 320, height: 180, format: .mp4)),
                         CreateJobBody(kind: .image, prompt: "waves", params: ParamsBody(format: .gif))] {
                let response = try await alice.send(.POST, "/v1/jobs", json: body)
                #expect(response.status == 503)
                #expect(response.problem?.slug == "video-pool-disabled")
                #expect(response.problem?.detail.contains("apt-get install -y ffmpeg") == true)
            }
            let image = try await alice.submit(smallImage())
            let done = try await alice.waitForJob(image.id) { $0.status.isTerminal }
            #expect(done.status == .succeeded)
            #expect(try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.count == 1)
        }
    }
}
