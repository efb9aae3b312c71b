/// Prices a job in whole credits. The scheduler uses the same figure as the job's size, the
/// planner's estimates use it, and it is what a job reserves and, on success, is charged.
///
/// A model's price is one of three rules, by output:
/// - **stills** (and any output without a rule of its own): `creditsPerMegapixel` per megapixel
///   of output, all frames counted, times `steps / referenceSteps` when a reference is set
///   (diffusion backends cost more per step; the built-in renderer ignores steps);
/// - **films** (mp4, webm) when `creditsPerVideoSecond` is set: that many credits per second of
///   output at one-megapixel frames, in proportion to the frame's size;
/// - **GIF loops** when `creditsPerGIFFrame` is set: that many credits per frame.
///
/// Every job costs at least `minimum`; fractions round up.
public struct CostModel: Sendable, Hashable, Codable {
    public var creditsPerMegapixel: Double
    public var referenceSteps: Int?
    public var creditsPerVideoSecond: Double?
    public var creditsPerGIFFrame: Double?
    public var minimum: Int

    public init(creditsPerMegapixel: Double = 4, referenceSteps: Int? = nil, creditsPerVideoSecond: Double? = nil,
                creditsPerGIFFrame: Double? = nil, minimum: Int = 1) {
        self.creditsPerMegapixel = creditsPerMegapixel
        self.referenceSteps = referenceSteps
        self.creditsPerVideoSecond = creditsPerVideoSecond
        self.creditsPerGIFFrame = creditsPerGIFFrame
        self.minimum = minimum
    }

    enum CodingKeys: String, CodingKey {
        case creditsPerMegapixel = "credits_per_megapixel"
        case referenceSteps = "reference_steps"
        case creditsPerVideoSecond = "credits_per_video_second"
        case creditsPerGIFFrame = "credits_per_gif_frame"
        case minimum
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let base = CostModel()
        self.init(
            creditsPerMegapixel: try c.decodeIfPresent(Double.self, forKey: .creditsPerMegapixel) ?? base.creditsPerMegapixel,
            referenceSteps: try c.decodeIfPresent(Int.self, forKey: .referenceSteps),
            creditsPerVideoSecond: try c.decodeIfPresent(Double.self, forKey: .creditsPerVideoSecond),
            creditsPerGIFFrame: try c.decodeIfPresent(Double.self, forKey: .creditsPerGIFFrame),
            minimum: try c.decodeIfPresent(Int.self, forKey: .minimum) ?? base.minimum)
    }

    /// Checks that every rate is positive and finite, the minimum at least 1.
    public func validate() throws(ValidationError) {
        for (field, rate) in [("credits_per_megapixel", Optional(creditsPerMegapixel)),
                              ("credits_per_video_second", creditsPerVideoSecond), ("credits_per_gif_frame", creditsPerGIFFrame)] {
            if let rate, !(rate.isFinite && rate > 0 && rate <= 1_000_000) {
                throw ValidationError(field: field, message: "must be a positive number of credits up to 1,000,000")
            }
        }
        if let referenceSteps, !(1...10_000).contains(referenceSteps) {
            throw ValidationError(field: "reference_steps", message: "must be from 1 to 10,000")
        }
        guard (1...1_000_000).contains(minimum) else {
            throw ValidationError(field: "minimum", message: "must be from 1 to 1,000,000 credits")
        }
    }

    public func cost(of params: JobParams) -> Int {
        cost(width: params.width, height: params.height, frames: params.format.isAnimated ? params.frames : 1,
             fps: params.fps, format: params.format, steps: params.steps)
    }

    /// The price of `frames` frames of `width`×`height` pixels in `format` (a still is one frame).
    public func cost(width: Int, height: Int, frames: Int, fps: Int = 12, format: OutputFormat = .png, steps: Int = 20) -> Int {
        let frameMegapixels = Double(width * height) / 1_000_000
        let frames = max(frames, 1)
        let credits: Double
        if format.isFilm, let perSecond = creditsPerVideoSecond {
            credits = Double(frames) / Double(max(fps, 1)) * frameMegapixels * perSecond
        } else if format == .gif, let perFrame = creditsPerGIFFrame {
            credits = Double(frames) * perFrame
        } else {
            let stepsFactor = referenceSteps.map { Double(max(steps, 1)) / Double($0) } ?? 1
            credits = frameMegapixels * Double(frames) * creditsPerMegapixel * stepsFactor
        }
        return max(minimum, Int(credits.rounded(.up)))
    }
}

/// Prices per model: each model's own cost model, else the default.
public struct Pricing: Sendable, Hashable {
    public var defaultModel: CostModel
    public var models: [ModelID: CostModel]

    public init(defaultModel: CostModel = CostModel(), models: [ModelID: CostModel] = [:]) {
        self.defaultModel = defaultModel
        self.models = models
    }

    public func costModel(for model: ModelID) -> CostModel {
        models[model] ?? defaultModel
    }
}
