import AtelierCore
import AtelierMedia
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

    @Test("cancelling a running film stops it at its next heartbeat and leaves no scratch files; a finished film leaves none either")
    func cancelRunningFilm() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-scratch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await withServer(workers: 2, configure: { $0.scratchDirectory = scratch }) { server in
            let (alice, _) = try await server.creator()
            // Two minutes of 720p: far longer than the test waits.
            let long = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "a storm over the sea at night",
                params: ParamsBody(width: 1280, height: 720, format: .mp4, fps: 24, durationS: 120, scenes: 2)))
            _ = try await alice.waitForJob(long.id, timeout: .seconds(60)) { $0.status == .running }
            // The worker has started making the film once its private folder exists.
            try await within(.seconds(60), "the film's scratch folder to appear") {
                while try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).count == 1)
            let cancelled = try await alice.send(.POST, "/v1/jobs/\(long.id)/cancel")
            #expect(cancelled.status == 200)
            let ended = try await alice.waitForJob(long.id, timeout: .seconds(60)) { $0.status.isTerminal }
            #expect(ended.status == .canceled)
            #expect(ended.artifacts.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)

            let short = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "a meadow at dawn",
                params: ParamsBody(width: 128, height: 72, format: .mp4, fps: 8, durationS: 1)))
            #expect(try await alice.waitForJob(short.id) { $0.status.isTerminal }.status == .succeeded)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
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
