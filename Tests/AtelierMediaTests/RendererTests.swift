import AtelierCore
import AtelierMedia
import Foundation
import Testing

@Suite struct RendererTests {
    let renderer = ProceduralRenderer()

    @Test func sameInputsGiveIdenticalBytes() throws {
        let a = renderer.render(prompt: "a lighthouse at dusk", width: 320, height: 200, seed: 7)
        let b = renderer.render(prompt: "a lighthouse at dusk", width: 320, height: 200, seed: 7)
        #expect(a == b)
        #expect(try PNGEncoder.encode(a) == PNGEncoder.encode(b))
    }

    @Test func seedPromptAndTimeEachChangeThePicture() {
        let base = renderer.render(prompt: "a lighthouse at dusk", width: 160, height: 120, seed: 7)
        #expect(base != renderer.render(prompt: "a lighthouse at dusk", width: 160, height: 120, seed: 8))
        #expect(base != renderer.render(prompt: "a castle at dawn", width: 160, height: 120, seed: 7))
        #expect(base != renderer.render(prompt: "a lighthouse at dusk", width: 160, height: 120, seed: 7, time: 0.5))
        // The loop is seamless: time 1 is time 0.
        #expect(base == renderer.render(prompt: "a lighthouse at dusk", width: 160, height: 120, seed: 7, time: 1))
    }

    @Test func lightWordsSetTheMood() {
        func meanBrightness(_ prompt: String) -> Double {
            let image = renderer.render(prompt: prompt, width: 128, height: 96, seed: 3)
            return Double(image.pixels.reduce(0) { $0 + Int($1) }) / Double(image.pixels.count)
        }
        #expect(meanBrightness("a quiet lake at night") + 40 < meanBrightness("a quiet lake on a sunny day"))
        #expect(meanBrightness("snowy hills on a sunny day") > meanBrightness("hills on a sunny day"))
    }

    @Test func colourWordsTintTheSky() {
        func meanChannels(_ prompt: String) -> (r: Int, b: Int) {
            let image = renderer.render(prompt: prompt, width: 96, height: 96, seed: 1)
            var r = 0, b = 0
            for i in stride(from: 0, to: image.pixels.count / 3, by: 3) { r += Int(image.pixels[i]); b += Int(image.pixels[i + 2]) }
            return (r, b)
        }
        let red = meanChannels("a red sky over the meadow")
        let blue = meanChannels("a blue sky over the meadow")
        #expect(red.r > blue.r && blue.b > red.b)
    }

    @Test func theNegativePromptRemovesWhatItNames() {
        let withCastle = renderer.render(prompt: "a castle on a meadow at dawn", width: 128, height: 96, seed: 5)
        let negated = renderer.render(prompt: "a castle on a meadow at dawn", negativePrompt: "castle",
                                      width: 128, height: 96, seed: 5)
        // Excluded words are dropped before anything is read from the prompt.
        let plain = renderer.render(prompt: "a on a meadow at dawn", width: 128, height: 96, seed: 5)
        #expect(negated == plain)
        #expect(negated != withCastle)
    }

    @Test(arguments: [(64, 64), (333, 97), (800, 450)])
    func pngIsDecodedLosslesslyByFFmpeg(width: Int, height: Int) throws {
        let image = renderer.render(prompt: "a red fox in fresh snow", width: width, height: height, seed: 11)
        let png = try PNGEncoder.encode(image)
        let probe = try Decoding.probe(png)
        #expect(probe.width == width && probe.height == height)
        #expect(try Decoding.rgb(png) == Data(image.pixels))
    }

    @Test func gifLoopsHaveEveryFrame() async throws {
        let ffmpeg = try #require(FFmpeg.locate(searchPath: ProcessInfo.processInfo.environment["PATH"]))
        let output = try await BuiltinRenderer(ffmpeg: ffmpeg).render(
            prompt: "a boat on the sea under a starry sky", negativePrompt: nil,
            params: JobParams(width: 96, height: 64, seed: 2, format: .gif, frames: 6, fps: 12), progress: { _ in })
        #expect(output.contentType == "image/gif")
        #expect(output.data.prefix(6) == Data("GIF89a".utf8))
        let probe = try Decoding.probe(output.data)
        #expect(probe.width == 96 && probe.height == 64 && probe.frames == 6)
    }

    @Test func renderingStopsWhenCancelled() async throws {
        let ffmpeg = FFmpeg.locate(searchPath: ProcessInfo.processInfo.environment["PATH"])
        let task = Task {
            try await BuiltinRenderer(ffmpeg: ffmpeg).render(
                prompt: "waves", negativePrompt: nil,
                params: JobParams(width: 256, height: 256, format: .gif, frames: 200), progress: { _ in })
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }
}
