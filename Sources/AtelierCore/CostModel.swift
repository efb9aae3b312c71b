/// Prices a job in whole credits. The scheduler uses the same figure as the job's size.
///
/// The built-in price is one credit per started quarter-megapixel of output (all frames
/// counted), at least `minimum`. The credits issue replaces this with per-model configuration.
public struct CostModel: Sendable, Hashable {
    public var creditsPerMegapixel: Double
    public var minimum: Int

    public init(creditsPerMegapixel: Double = 4, minimum: Int = 1) {
        self.creditsPerMegapixel = creditsPerMegapixel
        self.minimum = minimum
    }

    public func cost(of params: JobParams) -> Int {
        cost(megapixels: params.megapixels)
    }

    /// The price of `frames` frames of `width`×`height` pixels (a still is one frame).
    public func cost(width: Int, height: Int, frames: Int) -> Int {
        cost(megapixels: Double(width * height * max(frames, 1)) / 1_000_000)
    }

    private func cost(megapixels: Double) -> Int {
        max(minimum, Int((megapixels * creditsPerMegapixel).rounded(.up)))
    }
}
