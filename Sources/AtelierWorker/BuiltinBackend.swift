public import AtelierCore
public import AtelierMedia
import Foundation

/// The `builtin` model as a backend: the procedural renderer, PNG stills and GIF loops.
public struct BuiltinBackend: Backend {
    private let renderer: BuiltinRenderer

    public init(ffmpeg: FFmpeg?) {
        renderer = BuiltinRenderer(ffmpeg: ffmpeg)
    }

    public var models: Set<ModelID> { [.builtin] }

    public func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        do {
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
