import AtelierBlobs
import AtelierCore
import AtelierStore
import AtelierMedia
import AtelierWorker
public import Foundation
import Logging

/// The film pipeline at the issue's size: a 4-scene, 12 s, 1280×720, 24 fps MP4 from the
/// built-in backend, stage by stage; composing against a plain re-encode of the same frames;
/// and the speed of drawing clip frames on one core.
public enum FilmBenchmark {
    public static func run(environment: [String: String] = ProcessInfo.processInfo.environment, quick: Bool = false) async throws
        -> [BenchmarkResult] {
        guard let ffmpeg = FFmpeg.locate(environment: environment) else {
            throw FilmBenchmarkError(description: "the film benchmark needs ffmpeg: \(FFmpeg.missingAdvice)")
        }
        let ffprobe = FFprobe.locate(besides: ffmpeg, searchPath: environment["PATH"])
        var results: [BenchmarkResult] = []

        // Frame drawing alone, one core: every camera move, 96 frames each.
        let format = FilmFormat(width: 1280, height: 720, fps: 24)
        let framesPerMove = quick ? 24 : 96
        var drawn = 0
        let drawStart = ContinuousClock.now
        for camera in CameraMove.allCases {
            try SceneClipRenderer().render(SceneShot(prompt: "a lighthouse on the coast at dusk with gulls", camera: camera, seed: 3),
                                           format: format, frames: framesPerMove) { _ in drawn += 1 }
        }
        let fps = Double(drawn) / (ContinuousClock.now - drawStart).seconds
        results.append(BenchmarkResult(name: "clip frames 1280×720 drawn, one core (\(drawn) frames, every camera move)",
                                       value: fps, unit: "frames/s", target: "≥ 60 frames/s", isMet: fps >= 60))

        for preview in [false, true] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-film-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let seconds = quick ? 4 : 12
            let job = Job(id: JobID(rawValue: "job_bench")!, creatorID: CreatorID(rawValue: "crt_bench")!, kind: .video,
                          pool: .video, model: .builtin,
                          prompt: "A harbour town wakes at dawn. Fishing boats sail out to sea. Gulls follow the boats. The boats return at dusk",
                          params: JobParams(width: 1280, height: 720, seed: 7, format: .mp4, frames: seconds * 24, fps: 24, scenes: 4,
                                            preview: preview),
                          cost: 1, createdAt: Date())
            let total = ContinuousClock.now
            let made = try await FilmMaker(ffmpeg: ffmpeg, ffprobe: ffprobe).make(job, in: directory) { _ in }
            let wall = (ContinuousClock.now - total).seconds
            let label = preview ? "with GIF preview" : "film + poster"
            results.append(BenchmarkResult(name: "film 4 scenes, \(seconds) s 1280×720 24 fps MP4, \(label): total wall time",
                                           value: wall, unit: "s", target: "—"))
            for (stage, time) in [("plan", made.timings.plan), ("render and encode the scene clips", made.timings.scenes),
                                  ("compose", made.timings.compose), ("ffprobe check", made.timings.verify)] {
                results.append(BenchmarkResult(name: "  \(label): \(stage)", value: time.seconds, unit: "s", target: "—"))
            }
            // The same frames re-encoded once at the same settings, without transitions or poster.
            let list = directory.appendingPathComponent("clips.txt")
            try made.clips.map { "file '\($0.path)'" }.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
            let encodeStart = ContinuousClock.now
            try await ffmpeg.run(["-f", "concat", "-safe", "0", "-i", list.path, "-an", "-c:v", "libx264", "-preset", "veryfast",
                                  "-crf", "21", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                                  directory.appendingPathComponent("baseline.mp4").path])
            let encode = (ContinuousClock.now - encodeStart).seconds
            let ratio = made.timings.compose.seconds / encode
            results.append(BenchmarkResult(
                name: "  compose / one encode of the same frames (\(label); encode alone \(String(format: "%.2f", encode)) s)",
                value: ratio, unit: "×", target: "≤ 1.3×", isMet: preview ? nil : ratio <= 1.3))
        }
        results += try await throughTheScheduler(ffmpeg: ffmpeg, ffprobe: ffprobe, quick: quick)
        return results
    }

    /// The same film as users get it: queued as a film and its scene jobs on an embedded store,
    /// made by an in-process video pool of 1 and then 2 slots (scene jobs leased, rendered,
    /// stored; the film released and composed from the stored clips), from queueing to success.
    static func throughTheScheduler(ffmpeg: FFmpeg, ffprobe: FFprobe?, quick: Bool) async throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        let seconds = quick ? 4 : 12
        for slots in [1, 2] {
            let bed = try BenchmarkBed(durability: .full)
            defer { bed.remove() }
            let blobs = try FileBlobStore(root: bed.directory.appendingPathComponent("blobs", isDirectory: true))
            let creator = try await bed.makeCreators(1)[0]
            var logger = Logger(label: "atelier.bench")
            logger.logLevel = .error
            let pool = WorkerPool(store: bed.store, blobs: blobs,
                                  backend: BuiltinBackend(ffmpeg: ffmpeg, ffprobe: ffprobe, scratch: bed.directory),
                                  configuration: WorkerConfiguration(worker: WorkerID(rawValue: "bench-video")!, pool: .video, slots: slots),
                                  clock: bed.clock, logger: logger)
            let running = Task { try await pool.run() }
            let film = NewJob(id: bed.ids.jobID(), creatorID: creator, kind: .video, pool: .video, model: .builtin,
                              prompt: "A harbour town wakes at dawn. Fishing boats sail out to sea. Gulls follow the boats. The boats return at dusk",
                              params: JobParams(width: 1280, height: 720, seed: 7, format: .mp4, frames: seconds * 24, fps: 24,
                                                scenes: 4, preview: false),
                              cost: CostModel().cost(width: 1280, height: 720, frames: seconds * 24))
            let start = ContinuousClock.now
            _ = try await bed.store.enqueue(SceneJobs.split(film, costModel: CostModel()) { bed.ids.jobID() }, now: bed.clock.now)
            var made = try await bed.store.job(id: film.id, scope: .operator)
            while let job = made, !job.status.isTerminal {
                try await Task.sleep(for: .milliseconds(20))
                made = try await bed.store.job(id: film.id, scope: .operator)
            }
            let wall = (ContinuousClock.now - start).seconds
            pool.beginDraining()
            running.cancel()
            _ = try? await running.value
            guard made?.status == .succeeded else {
                throw FilmBenchmarkError(description: "the film ended \(made?.status.rawValue ?? "missing"): \(made?.error?.message ?? "")")
            }
            results.append(BenchmarkResult(
                name: "film 4 scenes, \(seconds) s 1280×720 24 fps MP4 through the scheduler (4 scene jobs + compose), \(slots) video slot(s): queued → succeeded",
                value: wall, unit: "s", target: "—"))
        }
        return results
    }
}

struct FilmBenchmarkError: Error, CustomStringConvertible {
    var description: String
}
