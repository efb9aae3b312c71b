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

    /// The plan a film job is rendered from: the one the creator supplied (checked when the job
    /// was submitted), else the built-in planner's.
    public static func plan(for job: Job) -> Plan {
        let params = job.params
        if let supplied = params.plan, let plan = try? supplied.decode(as: Plan.self), !plan.scenes.isEmpty {
            return plan
        }
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
        try await inScratch { directory in
            try Self.outputs(of: try await make(job, in: directory, progress: progress).outputs, job: job)
        }
    }

    /// A scene job's output: the clip of scene `job.params.scene` of the film's plan (the job
    /// carries the film's prompt and parameters, so it plans the same film), with the overlap
    /// its transition into the next scene needs.
    public func sceneClip(_ job: Job, progress: @escaping @Sendable (Double) -> Void) async throws -> [BackendOutput] {
        let plan = Self.plan(for: job)
        guard let number = job.params.scene, plan.scenes.indices.contains(number - 1) else {
            throw BackendError(code: "no_such_scene", message: "the film's plan has \(plan.scenes.count) scene(s); "
                + "this job asks for scene \(job.params.scene.map(String.init) ?? "none")", isRetryable: false)
        }
        return try await inScratch { directory in
            let clip = directory.appendingPathComponent("scene.mp4")
            try await renderScene(number - 1, of: plan, job: job, to: clip, progress: progress)
            return [BackendOutput(name: Self.sceneClipName(number), contentType: "video/mp4", data: try Data(contentsOf: clip))]
        }
    }

    /// The name of scene `number`'s clip among its scene job's artifacts.
    public static func sceneClipName(_ number: Int) -> String { "scene-\(number).mp4" }

    /// The compose step of a film whose scenes were scene jobs: `clips` in scene order.
    /// `progress` goes from the scenes' share (0.9) to 1.
    public func compose(_ job: Job, clips: [Data], progress: @escaping @Sendable (Double) -> Void) async throws
        -> [BackendOutput] {
        let container = try Self.container(of: job)
        let plan = Self.plan(for: job)
        guard clips.count == plan.scenes.count else {
            throw BackendError(code: "scenes_missing", message: "the film's plan has \(plan.scenes.count) scene(s) "
                + "but \(clips.count) scene clip(s) were made", isRetryable: false)
        }
        return try await inScratch { directory in
            var files: [URL] = []
            for (index, data) in clips.enumerated() {
                let file = directory.appendingPathComponent("scene-\(index).mp4")
                try data.write(to: file)
                files.append(file)
            }
            progress(0.92)
            let outputs = try await composeAndVerify(plan, clips: files, job: job, container: container, in: directory)
            progress(0.99)
            return try Self.outputs(of: outputs, job: job)
        }
    }

    /// Makes the film in `directory` (which the caller removes), timing each stage.
    public func make(_ job: Job, in directory: URL, progress: @escaping @Sendable (Double) -> Void) async throws -> Made {
        let container = try Self.container(of: job)
        let planned = ContinuousClock.now
        let plan = Self.plan(for: job)
        let clips = plan.scenes.indices.map { directory.appendingPathComponent("scene-\($0).mp4") }
        let sceneProgress = ProgressTally(parts: plan.scenes.count) { progress(0.85 * $0) }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func startScene(_ index: Int) {
                group.addTask {
                    try await renderScene(index, of: plan, job: job, to: clips[index]) { sceneProgress.report(index, $0) }
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
        var composed = rendered
        let outputs = try await composeAndVerify(plan, clips: clips, job: job, container: container, in: directory) {
            composed = .now
            progress(0.95)
        }
        return Made(plan: plan, clips: clips, outputs: outputs,
                    timings: Timings(plan: started - planned, scenes: rendered - started, compose: composed - rendered,
                                     verify: .now - composed))
    }

    /// Renders scene `index` of `plan` as a clip at `url`, long enough to overlap the next scene
    /// by its transition.
    func renderScene(_ index: Int, of plan: Plan, job: Job, to url: URL,
                     progress: @escaping @Sendable (Double) -> Void) async throws {
        let params = job.params
        let scene = plan.scenes[index]
        let timing = plan.scenes.map { (seconds: $0.durationS, transition: $0.transition) }
        let seconds = scene.durationS + FilmComposer.overlap(after: index, of: timing, fps: params.fps)
        do {
            try await SceneClipRenderer().renderClip(Self.shot(scene, of: plan, job: job),
                                                     format: FilmFormat(width: params.width, height: params.height, fps: params.fps),
                                                     seconds: seconds, to: url, ffmpeg: ffmpeg, progress: progress)
        } catch let error as FFmpeg.Failure {
            throw BackendError(code: "scene_failed", message: "scene \(index + 1) of \(plan.scenes.count) "
                + "(\"\(scene.description.prefix(60))\") failed: \(error)", isRetryable: true)
        }
    }

    /// Joins the clips with the plan's transitions, then checks the film with ffprobe.
    func composeAndVerify(_ plan: Plan, clips: [URL], job: Job, container: FilmComposer.Container, in directory: URL,
                          composed: () -> Void = {}) async throws -> FilmComposer.Outputs {
        let params = job.params
        let cuts = plan.scenes.enumerated().map { FilmComposer.Cut(clip: clips[$0.offset], seconds: $0.element.durationS,
                                                                  transition: $0.element.transition) }
        let outputs = try await FilmComposer(ffmpeg: ffmpeg).compose(
            cuts, format: FilmFormat(width: params.width, height: params.height, fps: params.fps), container: container,
            preview: params.preview, into: directory)
        composed()
        if let ffprobe { try await verify(outputs.film, job: job, probe: ffprobe) }
        return outputs
    }

    static func container(of job: Job) throws -> FilmComposer.Container {
        guard let container = FilmComposer.Container(rawValue: job.params.format.rawValue) else {
            throw BackendError(code: "not_a_film", message: "\(job.params.format.rawValue) is not a film format", isRetryable: false)
        }
        return container
    }

    /// The film's artifacts: the film, its poster and (when asked for) its GIF preview.
    static func outputs(of outputs: FilmComposer.Outputs, job: Job) throws -> [BackendOutput] {
        var files = [BackendOutput(name: "film.\(outputs.film.pathExtension)", contentType: job.params.format.contentType,
                                   data: try Data(contentsOf: outputs.film)),
                     BackendOutput(name: "poster.png", contentType: "image/png", data: try Data(contentsOf: outputs.poster))]
        if let preview = outputs.preview {
            files.append(BackendOutput(name: "preview.gif", contentType: "image/gif", data: try Data(contentsOf: preview)))
        }
        return files
    }

    /// Runs `body` with a private scratch directory, removed in every outcome.
    func inScratch<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = scratch.appendingPathComponent("atelier-film-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
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
