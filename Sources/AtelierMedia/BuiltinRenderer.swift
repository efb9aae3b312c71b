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

    public struct MissingFFmpeg: Error, Sendable, CustomStringConvertible {
        public var description: String { "animated formats need ffmpeg, which was not found on PATH" }
    }

    let renderer = ProceduralRenderer()
    let ffmpeg: FFmpeg?

    public init(ffmpeg: FFmpeg?) {
        self.ffmpeg = ffmpeg
    }

    /// Renders and encodes; reports progress in 0…1 and stops early when the task is cancelled.
    public func render(prompt: String, negativePrompt: String?, params: JobParams,
                       progress: @Sendable (Double) async -> Void) async throws -> Output {
        switch params.format {
        case .png:
            let image = renderer.render(prompt: prompt, negativePrompt: negativePrompt, width: params.width,
                                        height: params.height, seed: params.seed)
            await progress(0.8)
            try Task.checkCancellation()
            return Output(data: try PNGEncoder.encode(image), contentType: "image/png", fileExtension: "png")
        case .gif:
            guard let ffmpeg else { throw MissingFFmpeg() }
            var frames: [RGBImage] = []
            frames.reserveCapacity(params.frames)
            for index in 0..<params.frames {
                try Task.checkCancellation()
                frames.append(renderer.render(
                    prompt: prompt, negativePrompt: negativePrompt, width: params.width, height: params.height,
                    seed: params.seed, time: Double(index) / Double(params.frames)
                ))
                await progress(0.8 * Double(index + 1) / Double(params.frames))
            }
            let data = try await GIFEncoder(ffmpeg: ffmpeg).encode(frames: frames, fps: params.fps)
            return Output(data: data, contentType: "image/gif", fileExtension: "gif")
        }
    }
}
