import AtelierMedia
import Foundation

/// The built-in renderer's speed on one core: drawing alone, and drawing plus PNG encoding.
public enum RenderBenchmark {
    public static func run(width: Int = 1024, height: Int = 1024, iterations: Int = 20) throws -> [BenchmarkResult] {
        let renderer = ProceduralRenderer()
        let prompts = ["a lighthouse on the coast at dusk with birds", "a red fox in fresh snow under the moon",
                       "a castle in the misty mountains at dawn", "a neon city skyline at night"]
        let megapixels = Double(width * height * iterations) / 1_000_000
        let drawStart = ContinuousClock.now
        for index in 0..<iterations {
            _ = renderer.render(prompt: prompts[index % prompts.count], width: width, height: height, seed: UInt32(index))
        }
        let draw = (ContinuousClock.now - drawStart).seconds
        let fullStart = ContinuousClock.now
        var bytes = 0
        for index in 0..<iterations {
            let image = renderer.render(prompt: prompts[index % prompts.count], width: width, height: height, seed: UInt32(index))
            bytes += try PNGEncoder.encode(image).count
        }
        let full = (ContinuousClock.now - fullStart).seconds
        return [
            BenchmarkResult(name: "render \(width)×\(height), one core", value: megapixels / draw, unit: "MP/s",
                            target: "≥ 20 MP/s", isMet: megapixels / draw >= 20),
            BenchmarkResult(name: "render + PNG encode \(width)×\(height), one core (avg \(bytes / iterations / 1024) KiB)",
                            value: megapixels / full, unit: "MP/s", target: "≥ 8 MP/s", isMet: megapixels / full >= 8),
        ]
    }
}
