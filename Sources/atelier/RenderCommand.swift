import ArgumentParser
import AtelierCore
import AtelierMedia
import Foundation

/// `atelier render`: runs the built-in model locally, without a server.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Render a prompt with the built-in model to a local file."
    )

    @Argument(help: "What to draw, e.g. \"a red fox in fresh snow at dusk\".")
    var prompt: String

    @Option(help: "Words to leave out.") var negativePrompt: String?
    @Option(help: "Width in pixels (64…4096).") var width = 768
    @Option(help: "Height in pixels (64…4096).") var height = 512
    @Option(help: "Seed; the same seed gives the same picture.") var seed: UInt32 = 0
    @Option(help: "png or gif (an animated loop).") var format = "png"
    @Option(help: "Frames in a gif loop.") var frames = 24
    @Option(name: .shortAndLong, help: "Where to write the file.") var output: String

    func run() async throws {
        guard let outputFormat = OutputFormat(rawValue: format) else {
            throw ValidationError("--format must be png or gif")
        }
        let params = JobParams(width: width, height: height, seed: seed, format: outputFormat, frames: frames)
        do {
            try params.validate(for: .image)
        } catch {
            throw ValidationError("\(error)")
        }
        let ffmpeg = FFmpeg.locate(environment: ProcessInfo.processInfo.environment)
        let renderer = BuiltinRenderer(ffmpeg: ffmpeg)
        let artifact = try await renderer.render(
            prompt: prompt, negativePrompt: negativePrompt, params: params, progress: { _ in }
        )
        try artifact.data.write(to: URL(fileURLWithPath: output))
        print("wrote \(output) (\(artifact.data.count) bytes, \(artifact.contentType))")
    }
}
