public import AtelierCore
public import AtelierMedia
public import Foundation

/// The `builtin` model as a backend: the procedural renderer, PNG stills, GIF loops and films.
public struct BuiltinBackend: Backend {
    private let renderer: BuiltinRenderer
    private let films: FilmMaker?

    /// `scratch` holds each film's clips while it is made (a private folder per film, removed
    /// in every outcome).
    public init(ffmpeg: FFmpeg?, ffprobe: FFprobe? = nil, scratch: URL = FileManager.default.temporaryDirectory) {
        renderer = BuiltinRenderer(ffmpeg: ffmpeg)
        films = ffmpeg.map { FilmMaker(ffmpeg: $0, ffprobe: ffprobe, scratch: scratch) }
    }

    public var models: Set<ModelID> { [.builtin] }

    public func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        do {
            if job.params.format.isFilm {
                guard let films else { throw BuiltinRenderer.MissingFFmpeg() }
                if job.params.scene != nil {
                    return try await films.sceneClip(job) { context.reportProgress($0) }
                }
                // The compose step: every film is queued with its scene jobs (`SceneJobs`).
                return try await films.compose(job, clips: try await context.sceneClips()) { context.reportProgress($0) }
            }
            let output = try await renderer.render(
                prompt: job.prompt, negativePrompt: job.negativePrompt, params: job.params,
                progress: { context.reportProgress($0) }
            )
            return [BackendOutput(name: "output.\(output.fileExtension)", contentType: output.contentType, data: output.data)]
        } catch let error as BuiltinRenderer.MissingFFmpeg {
            throw BackendError(code: "ffmpeg_missing", message: error.description, isRetryable: false)
        } catch let error as FFmpeg.Failure {
            throw BackendError(code: "encoder_failed", message: error.description, isRetryable: true)
        }
    }
}
