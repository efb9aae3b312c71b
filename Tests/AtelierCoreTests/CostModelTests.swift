import AtelierCore
import Testing

/// The pricing rules: pixels (with an optional steps factor), seconds of film, GIF frames, a
/// minimum; fractions round up; per model with a default.
@Suite struct CostModelTests {
    @Test func picturesArePricedByTheirPixelsAndStepsWhenAReferenceIsSet() {
        let pixels = CostModel(creditsPerMegapixel: 4)
        #expect(pixels.cost(width: 512, height: 512, frames: 1) == 2)          // 1.05 → 2
        #expect(pixels.cost(width: 1000, height: 1000, frames: 1) == 4)        // exactly 4
        #expect(pixels.cost(width: 64, height: 64, frames: 1) == 1)            // the minimum
        let stepped = CostModel(creditsPerMegapixel: 4, referenceSteps: 20)
        #expect(stepped.cost(width: 1000, height: 1000, frames: 1, steps: 20) == 4)
        #expect(stepped.cost(width: 1000, height: 1000, frames: 1, steps: 50) == 10)
        #expect(pixels.cost(width: 1000, height: 1000, frames: 1, steps: 50) == 4, "without a reference, steps do not matter")
        #expect(CostModel(minimum: 5).cost(width: 64, height: 64, frames: 1) == 5)
    }

    @Test func filmsBySecondsAndGIFsByFramesWhenTheModelSaysSo() {
        let model = CostModel(creditsPerMegapixel: 4, creditsPerVideoSecond: 10, creditsPerGIFFrame: 0.5)
        // 2 s of 0.9216-megapixel frames at 10 credits per megapixel-second: 18.4 → 19.
        #expect(model.cost(width: 1280, height: 720, frames: 48, fps: 24, format: .mp4) == 19)
        #expect(model.cost(width: 1280, height: 720, frames: 24, fps: 12, format: .webm) == 19)
        #expect(model.cost(width: 320, height: 240, frames: 24, fps: 12, format: .gif) == 12)
        // A still from the same model is priced by its pixels.
        #expect(model.cost(width: 1000, height: 1000, frames: 1, format: .png) == 4)
        // Without those rules, every frame's pixels count.
        #expect(CostModel().cost(width: 1000, height: 1000, frames: 24, fps: 12, format: .gif) == 96)
        #expect(CostModel().cost(of: JobParams(width: 1000, height: 1000, format: .gif, frames: 24)) == 96)
    }

    @Test func eachModelHasItsOwnPriceElseTheDefault() throws {
        let sdxl = ModelID(rawValue: "sdxl")!
        let pricing = Pricing(defaultModel: CostModel(creditsPerMegapixel: 4), models: [sdxl: CostModel(creditsPerMegapixel: 12)])
        #expect(pricing.costModel(for: sdxl).cost(width: 1000, height: 1000, frames: 1) == 12)
        #expect(pricing.costModel(for: .builtin).cost(width: 1000, height: 1000, frames: 1) == 4)
        #expect(throws: ValidationError.self) { try CostModel(creditsPerMegapixel: 0).validate() }
        #expect(throws: ValidationError.self) { try CostModel(creditsPerVideoSecond: .infinity).validate() }
        #expect(throws: ValidationError.self) { try CostModel(minimum: 0).validate() }
        try CostModel(creditsPerMegapixel: 2, referenceSteps: 30, creditsPerVideoSecond: 1, creditsPerGIFFrame: 1).validate()
    }
}
