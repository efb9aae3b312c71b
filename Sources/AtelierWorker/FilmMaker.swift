public import AtelierCore
public import AtelierMedia
public import AtelierPlanning
public import Foundation
import Synchronization

/// Makes a film job's outputs with the built-in renderer: plans the prompt into scenes (the
/// built-in planner, so the same job always gives the same plan), renders each scene as a
/// clip on a moving camera, composes the clips with their transitions, and checks the result
/// with ffprobe. Scratch files live in a private directory removed in every outcome.
public struct FilmMaker: Sendable {
    public let ffmpeg: FFmpeg
    public let ffprobe: FFprobe?
    /// Scene clips rendered at once; each takes about two cores (drawing and encoding).
    public let parallelScenes: Int
    public let scratch: URL

    public init(ffmpeg: FFmpeg, ffprobe: FFprobe?, parallelScenes: Int = max(1, ProcessInfo.processInfo.activeProcessorCount / 2),
                scratch: URL = FileManager.default.temporaryDirectory) {
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
        self.parallelScenes = max(1, parallelScenes)
        self.scratch = scratch
    }

    /// The plan a film job is rendered from.
    public static func plan(for job: Job) -> Plan {
        let params = job.params
        return BuiltinPlanner.plan(for: PlanSpec(
            kind: .video, prompt: job.prompt, negativePrompt: job.negativePrompt, scenes: params.scenes == 0 ? nil : params.scenes,
            durationS: params.durationS, transition: params.transition, fps: params.fps
        ))
    }

    /// What the renderer reads for a scene: the film's setting, then the scene (whose own words
    /// win), then its time of day (which wins over both).
    static func shot(_ scene: PlannedScene, of plan: Plan, job: Job) -> SceneShot {
        let prompt = "\(plan.creativeDirection.setting) \(scene.description) \(scene.timeOfDay)"
        return SceneShot(prompt: prompt, negativePrompt: job.negativePrompt,
                         camera: CameraMove(rawValue: scene.cameraMotion) ?? .still, seed: job.params.seed)
    }

    public struct Timings: Sendable {
        public var plan: Duration
        public var scenes: Duration
        public var compose: Duration
        public var verify: Duration
    }

    /// What one film's making left in its directory.
    public struct Made: Sendable {
        public var plan: Plan
        public var clips: [URL]
        public var outputs: FilmComposer.Outputs
        public var timings: Timings
    }

    /// Renders the film; `progress` goes from 0 to 1 (scenes take 85 %, composing the rest).
    public func make(_ job: Job, progress: @escaping @Sendable (Double) -> Void) async throws -> [BackendOutput] {
        let directory = scratch.appendingPathComponent("atelier-film-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try await make(job, in: directory, progress: progress)
        let container = made.outputs.film.pathExtension
        var files = [BackendOutput(name: "film.\(container)", contentType: job.params.format.contentType,
                                   data: try Data(contentsOf: made.outputs.film)),
                     BackendOutput(name: "poster.png", contentType: "image/png", data: try Data(contentsOf: made.outputs.poster))]
        if let preview = made.outputs.preview {
            files.append(BackendOutput(name: "preview.gif", contentType: "image/gif", data: try Data(contentsOf: preview)))
        }
        return files
    }

    /// Makes the film in `directory` (which the caller removes), timing each stage.
    public func make(_ job: Job, in directory: URL, progress: @escaping @Sendable (Double) -> Void) async throws -> Made {
        let params = job.params
        guard let container = FilmComposer.Container(rawValue: params.format.rawValue) else {
            throw BackendError(code: "not_a_film", message: "\(params.format.rawValue) is not a film format", isRetryable: false)
        }
        let planned = ContinuousClock.now
        let plan = Self.plan(for: job)
        let format = FilmFormat(width: params.width, height: params.height, fps: params.fps)
        let timing = plan.scenes.map { (seconds: $0.durationS, transition: $0.transition) }
        let clips = plan.scenes.indices.map { directory.appendingPathComponent("scene-\($0).mp4") }
        let sceneProgress = ProgressTally(parts: plan.scenes.count) { progress(0.85 * $0) }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func startScene(_ index: Int) {
                let scene = plan.scenes[index]
                let seconds = scene.durationS + FilmComposer.overlap(after: index, of: timing, fps: params.fps)
                group.addTask {
                    do {
                        try await SceneClipRenderer().renderClip(Self.shot(scene, of: plan, job: job), format: format,
                                                                 seconds: seconds, to: clips[index], ffmpeg: ffmpeg) {
                            sceneProgress.report(index, $0)
                        }
                    } catch let error as FFmpeg.Failure {
                        throw BackendError(code: "scene_failed", message: "scene \(index + 1) of \(plan.scenes.count) "
                            + "(\"\(scene.description.prefix(60))\") failed: \(error)", isRetryable: true)
                    }
                    sceneProgress.report(index, 1)
                }
            }
            while next < min(parallelScenes, plan.scenes.count) {
                startScene(next)
                next += 1
            }
            while try await group.next() != nil {
                if next < plan.scenes.count {
                    startScene(next)
                    next += 1
                }
            }
        }
        let rendered = ContinuousClock.now
        let cuts = plan.scenes.enumerated().map { FilmComposer.Cut(clip: clips[$0.offset], seconds: $0.element.durationS,
                                                                  transition: $0.element.transition) }
        let outputs = try await FilmComposer(ffmpeg: ffmpeg).compose(cuts, format: format, container: container,
                                                                    preview: params.preview, into: directory)
        let composed = ContinuousClock.now
        progress(0.95)
        if let ffprobe { try await verify(outputs.film, job: job, probe: ffprobe) }
        return Made(plan: plan, clips: clips, outputs: outputs,
                    timings: Timings(plan: started - planned, scenes: rendered - started, compose: composed - rendered,
                                     verify: ContinuousClock.now - composed))
    }

    /// The film must be what was asked for: duration within 5 %, the size, the codec.
    func verify(_ film: URL, job: Job, probe: FFprobe) async throws {
        let found = try await probe.probe(film)
        let params = job.params
        let codec = params.format == .webm ? "vp9" : "h264"
        let wanted = params.durationS
        guard found.codec == codec, found.width == params.width, found.height == params.height,
              abs(found.duration - wanted) <= wanted * 0.05 else {
            throw BackendError(
                code: "film_mismatch",
                message: "the composed film is \(found.codec) \(found.width)×\(found.height), \(found.duration) s; "
                    + "asked for \(codec) \(params.width)×\(params.height), \(wanted) s",
                isRetryable: false
            )
        }
    }
}

/// Progress of several parts running at once, reported as their mean.
final class ProgressTally: Sendable {
    private let parts: Mutex<[Double]>
    private let sink: @Sendable (Double) -> Void

    init(parts: Int, sink: @escaping @Sendable (Double) -> Void) {
        self.parts = Mutex([Double](repeating: 0, count: parts))
        self.sink = sink
    }

    func report(_ part: Int, _ fraction: Double) {
        let mean = parts.withLock { parts in
            parts[part] = max(parts[part], min(1, fraction))
            return parts.reduce(0, +) / Double(parts.count)
        }
        sink(mean)
    }
}
