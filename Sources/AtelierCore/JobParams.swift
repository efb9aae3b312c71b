/// The encoded form of a job's output.
public enum OutputFormat: String, Sendable, Codable, CaseIterable {
    case png
    case gif

    public var contentType: String {
        switch self {
        case .png: "image/png"
        case .gif: "image/gif"
        }
    }

    /// Whether the format holds several frames (an animation loop).
    public var isAnimated: Bool { self == .gif }
}

/// Generation parameters, as users of ComfyUI and Replicate know them.
public struct JobParams: Sendable, Hashable, Codable {
    public var width: Int
    public var height: Int
    public var seed: UInt32
    public var format: OutputFormat
    /// Frames in an animation loop (animated formats only).
    public var frames: Int
    /// Frames per second of an animation loop.
    public var fps: Int
    /// Sampler steps for diffusion backends; the built-in renderer ignores it.
    public var steps: Int

    public init(width: Int = 512, height: Int = 512, seed: UInt32 = 0, format: OutputFormat = .png,
                frames: Int = 24, fps: Int = 12, steps: Int = 20) {
        self.width = width
        self.height = height
        self.seed = seed
        self.format = format
        self.frames = frames
        self.fps = fps
        self.steps = steps
    }

    public static let dimensionRange = 64...4096
    public static let frameRange = 2...240
    public static let fpsRange = 1...60
    public static let stepRange = 1...150

    /// The defaults for a kind: images are stills, videos are animated loops.
    public static func defaults(for kind: JobKind) -> JobParams {
        switch kind {
        case .image: JobParams()
        case .video: JobParams(width: 512, height: 288, format: .gif)
        }
    }

    /// Checks every field, naming the first one out of range.
    public func validate(for kind: JobKind) throws(ValidationError) {
        guard Self.dimensionRange.contains(width) else {
            throw ValidationError(field: "params.width", message: "must be from 64 to 4096 pixels")
        }
        guard Self.dimensionRange.contains(height) else {
            throw ValidationError(field: "params.height", message: "must be from 64 to 4096 pixels")
        }
        if kind == .video && !format.isAnimated {
            throw ValidationError(field: "params.format", message: "must be an animated format (gif) for video jobs")
        }
        if format.isAnimated {
            guard Self.frameRange.contains(frames) else {
                throw ValidationError(field: "params.frames", message: "must be from 2 to 240")
            }
            guard Self.fpsRange.contains(fps) else {
                throw ValidationError(field: "params.fps", message: "must be from 1 to 60")
            }
        }
        guard Self.stepRange.contains(steps) else {
            throw ValidationError(field: "params.steps", message: "must be from 1 to 150")
        }
    }

    /// Output pixels across all frames, in megapixels.
    public var megapixels: Double {
        Double(width * height * (format.isAnimated ? frames : 1)) / 1_000_000
    }
}
