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
        max(minimum, Int((params.megapixels * creditsPerMegapixel).rounded(.up)))
    }
}
