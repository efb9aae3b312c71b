public import AtelierCore
public import Foundation

/// The `builtin` model end to end: renders the requested frames and encodes them.
public struct BuiltinRenderer: Sendable {
    /// An encoded result, ready to store.
    public struct Output: Sendable {
        public var data: Data
        public var contentType: String
        public var fileExtension: String
    }

    /// Films are planned into scenes first; `FilmMaker` in the worker renders them.
    public struct NotAStill: Error, Sendable, CustomStringConvertible {
        public var description: String { "films (mp4, webm) are rendered scene by scene, not as one picture" }
    }

    public struct MissingFFmpeg: Error, Sendable, CustomStringConvertible {
        public init() {}

        public var description: String { "animated formats need ffmpeg, which was not found on PATH" }
    }

    let renderer = ProceduralRenderer()
    let ffmpeg: FFmpeg?

    public init(ffmpeg: FFmpeg?) {
        self.ffmpeg = ffmpeg
    }

    /// Renders and encodes; reports progress in 0…1 and stops early when the task is cancelled.
    public func render(prompt: String, negativePrompt: String?, params: JobParams,
                       progress: @escaping @Sendable (Double) -> Void) async throws -> Output {
        switch params.format {
        case .png:
            let image = renderer.render(prompt: prompt, negativePrompt: negativePrompt, width: params.width,
                                        height: params.height, seed: params.seed)
            progress(0.8)
            try Task.checkCancellation()
            return Output(data: try PNGEncoder.encode(image), contentType: "image/png", fileExtension: "png")
        case .gif:
            guard let ffmpeg else { throw MissingFFmpeg() }
            let renderer = renderer, count = params.frames
            let data = try await GIFEncoder(ffmpeg: ffmpeg).encode(width: params.width, height: params.height, count: count,
                                                                  fps: params.fps) { index in
                let image = renderer.render(prompt: prompt, negativePrompt: negativePrompt, width: params.width,
                                            height: params.height, seed: params.seed, time: Double(index) / Double(count))
                progress(0.9 * Double(index + 1) / Double(count))
                return image
            }
            return Output(data: data, contentType: "image/gif", fileExtension: "gif")
        case .mp4, .webm:
            throw NotAStill()
        }
    }
}
