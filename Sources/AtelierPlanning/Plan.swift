/// A planned piece of work: the creative direction for the whole and one entry per scene.
///
/// Field names are the wire names of `POST /v1/parse` (see openapi.yaml, `Plan`).
public struct Plan: Codable, Sendable, Hashable {
    public var creativeDirection: CreativeDirection
    public var scenes: [PlannedScene]

    enum CodingKeys: String, CodingKey {
        case creativeDirection = "creative_direction"
        case scenes
    }

    public init(creativeDirection: CreativeDirection, scenes: [PlannedScene]) {
        self.creativeDirection = creativeDirection
        self.scenes = scenes
    }
}

/// The look and feel every scene shares.
public struct CreativeDirection: Codable, Sendable, Hashable {
    public var kind: String
    public var style: String
    public var mood: String
    /// `#RRGGBB` colours, the dominant first.
    public var palette: [String]
    /// How the camera behaves overall: `steady`, `handheld` or `aerial`.
    public var camera: String
    public var pacing: String
    public var aspect: String
    public var durationS: Double
    public var timeOfDay: String
    public var setting: String
    public var subjects: [String]

    enum CodingKeys: String, CodingKey {
        case kind, style, mood, palette, camera, pacing, aspect, setting, subjects
        case durationS = "duration_s"
        case timeOfDay = "time_of_day"
    }

    public init(kind: String, style: String, mood: String, palette: [String], camera: String, pacing: String,
                aspect: String, durationS: Double, timeOfDay: String, setting: String, subjects: [String]) {
        self.kind = kind
        self.style = style
        self.mood = mood
        self.palette = palette
        self.camera = camera
        self.pacing = pacing
        self.aspect = aspect
        self.durationS = durationS
        self.timeOfDay = timeOfDay
        self.setting = setting
        self.subjects = subjects
    }
}

/// One scene: what it shows, for how long, how the camera moves and how it hands over to the next.
public struct PlannedScene: Codable, Sendable, Hashable {
    public var index: Int
    public var description: String
    public var durationS: Double
    public var cameraMotion: String
    /// The transition from this scene into the next (an ffmpeg `xfade` name); `none` for the last.
    public var transition: String
    public var timeOfDay: String
    /// `wide`, `medium` or `close`.
    public var shot: String

    enum CodingKeys: String, CodingKey {
        case index, description, transition, shot
        case durationS = "duration_s"
        case cameraMotion = "camera_motion"
        case timeOfDay = "time_of_day"
    }

    public init(index: Int, description: String, durationS: Double, cameraMotion: String, transition: String,
                timeOfDay: String, shot: String) {
        self.index = index
        self.description = description
        self.durationS = durationS
        self.cameraMotion = cameraMotion
        self.transition = transition
        self.timeOfDay = timeOfDay
        self.shot = shot
    }
}

/// Something the planner changed or doubts, with a stable code clients can branch on.
public struct PlanWarning: Codable, Sendable, Hashable {
    public var code: String
    public var message: String
    /// The scene concerned, when there is one.
    public var scene: Int?

    public init(code: String, message: String, scene: Int? = nil) {
        self.code = code
        self.message = message
        self.scene = scene
    }
}

/// How far to trust a plan, 0…1 each: `overall` weighs the others.
public struct PlanConfidence: Codable, Sendable, Hashable {
    public var overall: Double
    /// How much of the provider's answer was usable as given (1 = nothing repaired).
    public var structure: Double
    /// How closely the scenes' durations matched the requested total before normalising.
    public var timing: Double
    /// The share of the prompt's content words the plan takes up.
    public var coverage: Double

    public init(structure: Double, timing: Double, coverage: Double) {
        func rounded(_ value: Double) -> Double { (min(max(value, 0), 1) * 1000).rounded() / 1000 }
        self.structure = rounded(structure)
        self.timing = rounded(timing)
        self.coverage = rounded(coverage)
        overall = rounded(0.4 * structure + 0.2 * timing + 0.4 * coverage)
    }
}

/// What rendering the plan would cost, priced by the scheduler's cost model.
public struct CostEstimate: Codable, Sendable, Hashable {
    public var credits: Int
    /// Each scene's price (one scene job each; an image plan is one job).
    public var perScene: [Int]
    public var width: Int
    public var height: Int
    public var fps: Int
    public var frames: Int

    enum CodingKeys: String, CodingKey {
        case credits, width, height, fps, frames
        case perScene = "per_scene"
    }

    public init(credits: Int, perScene: [Int], width: Int, height: Int, fps: Int, frames: Int) {
        self.credits = credits
        self.perScene = perScene
        self.width = width
        self.height = height
        self.fps = fps
        self.frames = frames
    }
}

/// The answer to `POST /v1/parse`: the plan and what is known about it.
public struct PlanResult: Codable, Sendable, Hashable {
    public var creativeDirection: CreativeDirection
    public var scenes: [PlannedScene]
    public var warnings: [PlanWarning]
    public var confidence: PlanConfidence
    /// The planner that answered (`builtin`, or a configured provider's name).
    public var provider: String
    public var cacheHit: Bool
    public var costEstimate: CostEstimate
    public var plannerVersion: String

    enum CodingKeys: String, CodingKey {
        case scenes, warnings, confidence, provider
        case creativeDirection = "creative_direction"
        case cacheHit = "cache_hit"
        case costEstimate = "cost_estimate"
        case plannerVersion = "planner_version"
    }

    public init(plan: Plan, warnings: [PlanWarning], confidence: PlanConfidence, provider: String,
                cacheHit: Bool, costEstimate: CostEstimate, plannerVersion: String) {
        creativeDirection = plan.creativeDirection
        scenes = plan.scenes
        self.warnings = warnings
        self.confidence = confidence
        self.provider = provider
        self.cacheHit = cacheHit
        self.costEstimate = costEstimate
        self.plannerVersion = plannerVersion
    }

    public var plan: Plan { Plan(creativeDirection: creativeDirection, scenes: scenes) }
}
