public import AtelierCore

/// `POST /v1/parse`: a prompt to plan, or a previous plan and an edit instruction to apply to it.
public struct PlanRequest: Codable, Sendable, Hashable {
    public var prompt: String?
    public var negativePrompt: String?
    /// Upload ids of reference images and clips.
    public var inputs: [String]?
    public var options: PlanOptions?
    /// The plan to revise (with `edit`).
    public var plan: Plan?
    /// What to change in `plan`, in words: "make scene 2 a night shot, slower".
    public var edit: String?

    enum CodingKeys: String, CodingKey {
        case prompt, inputs, options, plan, edit
        case negativePrompt = "negative_prompt"
    }

    public init(prompt: String?, negativePrompt: String? = nil, inputs: [String]? = nil, options: PlanOptions? = nil,
                plan: Plan? = nil, edit: String? = nil) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.inputs = inputs
        self.options = options
        self.plan = plan
        self.edit = edit
    }

    public static let maximumScenes = 12
    public static let durationRange = 1.0...120.0
    public static let maximumInputs = 8
    public static let maximumEditLength = 1_000
    public static let maximumStyleLength = 200

    /// Checks every field and resolves the options against their defaults (and, for an edit,
    /// against the previous plan). The first broken rule is thrown.
    ///
    /// References weigh in the order video > image > text: the first clip (else the first
    /// image) sets the defaults the prompt's words and the options may then refine — a clip's
    /// length is the film's length unless `duration_s` is given.
    public func resolved(references: [ReferenceInput] = []) throws(ValidationError) -> PlanSpec {
        let references = references.filter { $0.kind == .video } + references.filter { $0.kind == .image }
        let text = prompt ?? ""
        if plan == nil || edit == nil {
            guard !text.allSatisfy(\.isWhitespace) else {
                throw ValidationError(field: "prompt", message: "must not be empty (or send a previous plan with an edit)")
            }
        }
        guard text.count <= JobRequest.maximumPromptLength else {
            throw ValidationError(field: "prompt", message: "must be at most \(JobRequest.maximumPromptLength) characters")
        }
        if let negativePrompt, negativePrompt.count > JobRequest.maximumPromptLength {
            throw ValidationError(field: "negative_prompt", message: "must be at most \(JobRequest.maximumPromptLength) characters")
        }
        if let inputs {
            guard inputs.count <= Self.maximumInputs else {
                throw ValidationError(field: "inputs", message: "must list at most \(Self.maximumInputs) uploads")
            }
        }
        if let edit {
            guard plan != nil else { throw ValidationError(field: "plan", message: "is required with edit: send the plan to revise") }
            guard !edit.allSatisfy(\.isWhitespace), edit.count <= Self.maximumEditLength else {
                throw ValidationError(field: "edit", message: "must be 1 to \(Self.maximumEditLength) characters")
            }
        }
        if let plan {
            guard (1...Self.maximumScenes).contains(plan.scenes.count) else {
                throw ValidationError(field: "plan.scenes", message: "must hold 1 to \(Self.maximumScenes) scenes")
            }
        }
        let previous = plan?.creativeDirection
        let options = options ?? PlanOptions()
        let kind: JobKind
        if let name = options.kind ?? previous?.kind {
            guard let parsed = JobKind(rawValue: name) else {
                throw ValidationError(field: "options.kind", message: "must be image or video")
            }
            kind = parsed
        } else {
            kind = .video
        }
        var scenes = options.scenes
        if let count = scenes, !(1...Self.maximumScenes).contains(count) {
            throw ValidationError(field: "options.scenes", message: "must be from 1 to \(Self.maximumScenes)")
        }
        let clipLength = references.first?.durationS.map { min(Self.durationRange.upperBound, max(Self.durationRange.lowerBound, $0)) }
        var duration = options.durationS ?? previous?.durationS ?? clipLength ?? 12
        if kind == .video {
            guard Self.durationRange.contains(duration), duration.isFinite else {
                throw ValidationError(field: "options.duration_s", message: "must be from 1 to 120 seconds")
            }
        } else {
            scenes = 1
            duration = 0
        }
        let aspect = options.aspect ?? previous?.aspect
        if let aspect, Vocabulary.size(of: aspect) == nil {
            throw ValidationError(field: "options.aspect", message: "must be one of \(Vocabulary.aspects.map(\.name).joined(separator: ", "))")
        }
        if let style = options.style, style.count > Self.maximumStyleLength {
            throw ValidationError(field: "options.style", message: "must be at most \(Self.maximumStyleLength) characters")
        }
        var transition: String?
        if let name = options.transition {
            guard let known = Vocabulary.transition(name) else {
                throw ValidationError(field: "options.transition", message: "must be one of \(Vocabulary.transitions.joined(separator: ", "))")
            }
            transition = known
        }
        let fps = options.fps ?? 24
        guard JobParams.fpsRange.contains(fps) else {
            throw ValidationError(field: "options.fps", message: "must be from 1 to 60")
        }
        var spec = PlanSpec(kind: kind, prompt: text, negativePrompt: negativePrompt, scenes: scenes, durationS: duration,
                            aspect: aspect, style: options.style, transition: transition, fps: fps)
        spec.references = references
        return spec
    }
}

/// What the caller may pin down; everything left out is the planner's choice.
public struct PlanOptions: Codable, Sendable, Hashable {
    public var kind: String?
    public var scenes: Int?
    public var durationS: Double?
    public var aspect: String?
    public var style: String?
    /// The transition between every pair of scenes.
    public var transition: String?
    public var fps: Int?

    enum CodingKeys: String, CodingKey {
        case kind, scenes, aspect, style, transition, fps
        case durationS = "duration_s"
    }

    public init(kind: String? = nil, scenes: Int? = nil, durationS: Double? = nil, aspect: String? = nil,
                style: String? = nil, transition: String? = nil, fps: Int? = nil) {
        self.kind = kind
        self.scenes = scenes
        self.durationS = durationS
        self.aspect = aspect
        self.style = style
        self.transition = transition
        self.fps = fps
    }
}

/// A validated request with defaults applied: what planners and the validator work from.
public struct PlanSpec: Sendable, Hashable, Codable {
    public var kind: JobKind
    public var prompt: String
    public var negativePrompt: String?
    /// Scenes asked for; nil lets the planner decide from the prompt and the duration.
    public var scenes: Int?
    /// The total length; 0 for images.
    public var durationS: Double
    public var aspect: String?
    public var style: String?
    public var transition: String?
    public var fps: Int
    /// Reference clips first, then images: what the uploads in `inputs` look like.
    public var references: [ReferenceInput] = []

    public init(kind: JobKind, prompt: String, negativePrompt: String? = nil, scenes: Int? = nil, durationS: Double,
                aspect: String? = nil, style: String? = nil, transition: String? = nil, fps: Int = 24) {
        self.kind = kind
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.scenes = scenes
        self.durationS = durationS
        self.aspect = aspect
        self.style = style
        self.transition = transition
        self.fps = fps
    }
}

/// An uploaded reference as planners see it.
public struct ReferenceInput: Sendable, Hashable, Codable {
    public var kind: Upload.Kind
    public var width: Int
    public var height: Int
    public var durationS: Double?
    public var features: ReferenceFeatures

    enum CodingKeys: String, CodingKey {
        case kind, width, height, features
        case durationS = "duration_s"
    }

    public init(_ upload: Upload) {
        kind = upload.kind
        width = upload.width
        height = upload.height
        durationS = upload.durationS
        features = upload.features
    }

    /// The listed aspect ratio nearest to the reference's own.
    public var aspect: String {
        let ratio = Double(width) / Double(max(height, 1))
        return Vocabulary.aspects.min { abs(Double($0.width) / Double($0.height) - ratio) < abs(Double($1.width) / Double($1.height) - ratio) }!.name
    }

    /// The light its brightness suggests.
    public var timeOfDay: String {
        features.brightness < 0.18 ? "night" : (features.brightness < 0.32 ? "dusk" : "day")
    }

    /// The pacing its motion suggests (clips only).
    public var pacing: String? {
        features.motion.map { $0 > 0.08 ? "fast" : ($0 < 0.02 ? "slow" : "moderate") }
    }
}
