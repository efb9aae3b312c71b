/// The encoded form of a job's output.
public enum OutputFormat: String, Sendable, Codable, CaseIterable {
    case png
    case gif
    case mp4
    case webm

    public var contentType: String {
        switch self {
        case .png: "image/png"
        case .gif: "image/gif"
        case .mp4: "video/mp4"
        case .webm: "video/webm"
        }
    }

    /// Whether the format holds several frames (an animation loop or a film).
    public var isAnimated: Bool { self != .png }

    /// Whether the format is a film: planned into scenes, rendered and composed with transitions.
    public var isFilm: Bool { self == .mp4 || self == .webm }
}

/// The transitions between a film's scenes: ffmpeg `xfade` names, and `none` for a cut.
public enum FilmTransitions {
    public static let names = [
        "none", "fade", "dissolve", "fadeblack", "fadewhite", "wipeleft", "wiperight", "wipeup", "wipedown",
        "slideleft", "slideright", "slideup", "slidedown", "circleopen", "circleclose", "radial", "smoothleft", "smoothright",
    ]
}

/// Generation parameters, as users of ComfyUI and Replicate know them.
public struct JobParams: Sendable, Hashable, Codable {
    public var width: Int
    public var height: Int
    public var seed: UInt32
    public var format: OutputFormat
    /// Frames in an animation loop or a film (animated formats only).
    public var frames: Int
    /// Frames per second of an animation loop or a film.
    public var fps: Int
    /// Sampler steps for diffusion backends; the built-in renderer ignores it.
    public var steps: Int
    /// Scenes of a film; 0 lets the planner decide from the prompt and the duration.
    public var scenes: Int
    /// The transition between every pair of a film's scenes; nil lets the planner choose.
    public var transition: String?
    /// Whether a film also gets a looping GIF preview.
    public var preview: Bool
    /// Set on a film's scene jobs: the scene (1-based) of the parent film this job renders as a
    /// clip. The rest of the parameters are the film's, so the job plans the same film.
    public var scene: Int?
    /// A film's plan when the creator supplied one (a `/v1/parse` result, perhaps edited),
    /// checked by the plan validator at submission; nil lets the built-in planner plan the film.
    /// Scene jobs carry their film's plan.
    public var plan: JSONValue?

    public init(width: Int = 512, height: Int = 512, seed: UInt32 = 0, format: OutputFormat = .png,
                frames: Int = 24, fps: Int = 12, steps: Int = 20, scenes: Int = 0, transition: String? = nil,
                preview: Bool = true, scene: Int? = nil, plan: JSONValue? = nil) {
        self.width = width
        self.height = height
        self.seed = seed
        self.format = format
        self.frames = frames
        self.fps = fps
        self.steps = steps
        self.scenes = scenes
        self.transition = transition
        self.preview = preview
        self.scene = scene
        self.plan = plan
    }

    enum CodingKeys: String, CodingKey {
        case width, height, seed, format, frames, fps, steps, scenes, transition, preview, scene, plan
        case durationS = "duration_s"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        width = try container.decode(Int.self, forKey: .width)
        height = try container.decode(Int.self, forKey: .height)
        seed = try container.decode(UInt32.self, forKey: .seed)
        format = try container.decode(OutputFormat.self, forKey: .format)
        frames = try container.decode(Int.self, forKey: .frames)
        fps = try container.decode(Int.self, forKey: .fps)
        steps = try container.decode(Int.self, forKey: .steps)
        scenes = try container.decodeIfPresent(Int.self, forKey: .scenes) ?? 0
        transition = try container.decodeIfPresent(String.self, forKey: .transition)
        preview = try container.decodeIfPresent(Bool.self, forKey: .preview) ?? true
        scene = try container.decodeIfPresent(Int.self, forKey: .scene)
        plan = try container.decodeIfPresent(JSONValue.self, forKey: .plan)
    }

    /// Films also carry their length in seconds and their scene settings; stills and loops do not.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(seed, forKey: .seed)
        try container.encode(format, forKey: .format)
        try container.encode(frames, forKey: .frames)
        try container.encode(fps, forKey: .fps)
        try container.encode(steps, forKey: .steps)
        if format.isFilm {
            try container.encode(durationS, forKey: .durationS)
            try container.encode(scenes, forKey: .scenes)
            try container.encodeIfPresent(transition, forKey: .transition)
            try container.encode(preview, forKey: .preview)
            try container.encodeIfPresent(scene, forKey: .scene)
            try container.encodeIfPresent(plan, forKey: .plan)
        }
    }

    public static let dimensionRange = 64...4096
    public static let frameRange = 2...240
    public static let fpsRange = 1...60
    public static let stepRange = 1...150
    public static let filmSeconds = 1.0...120.0
    public static let sceneRange = 0...12

    /// A film's length.
    public var durationS: Double { Double(frames) / Double(max(fps, 1)) }

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
            throw ValidationError(field: "params.format", message: "must be an animated format (gif, mp4 or webm) for video jobs")
        }
        if kind == .image && format.isFilm {
            throw ValidationError(field: "params.format", message: "mp4 and webm are for video jobs; images are png or gif")
        }
        if format.isAnimated {
            guard Self.fpsRange.contains(fps) else {
                throw ValidationError(field: "params.fps", message: "must be from 1 to 60")
            }
        }
        if format == .gif {
            guard Self.frameRange.contains(frames) else {
                throw ValidationError(field: "params.frames", message: "must be from 2 to 240")
            }
        }
        if format.isFilm {
            guard Self.filmSeconds.contains(durationS), frames >= 2 else {
                throw ValidationError(field: "params.duration_s", message: "must be from 1 to 120 seconds")
            }
            guard width % 2 == 0, height % 2 == 0 else {
                throw ValidationError(field: width % 2 == 0 ? "params.height" : "params.width",
                                      message: "must be even for mp4 and webm (4:2:0 video)")
            }
            guard Self.sceneRange.contains(scenes) else {
                throw ValidationError(field: "params.scenes", message: "must be from 1 to 12 (or 0 to let the planner decide)")
            }
            if let transition, !FilmTransitions.names.contains(transition) {
                throw ValidationError(field: "params.transition",
                                      message: "must be one of \(FilmTransitions.names.joined(separator: ", "))")
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
