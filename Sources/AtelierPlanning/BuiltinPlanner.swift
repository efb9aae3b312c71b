import AtelierCore
import AtelierMedia

/// The default planner: deterministic, no network. It reads the prompt the way the built-in
/// renderer does (light, setting, weather, subjects, palette), splits it into beats, and
/// gives each scene a shot, a camera move, a time of day and a transition from the words.
public struct BuiltinPlanner: Planner {
    public init() {}

    public var name: String { "builtin" }
    public var kind: String { "builtin" }

    public func draft(_ brief: PlanningBrief) async throws -> PlanDraft {
        .plan(brief.baseline)
    }

    /// The plan for a request, or for an edit the previous plan revised (see `PlanEditor`).
    public static func baseline(for spec: PlanSpec, previous: Plan?, edit: String?) -> Plan {
        if let previous, let edit {
            return PlanEditor.apply(edit, to: previous, spec: spec)
        }
        return plan(for: spec)
    }

    /// The plan for `spec`; the same spec always gives the same plan.
    public static func plan(for spec: PlanSpec) -> Plan {
        let direction = direction(for: spec)
        let beats = PromptText.beats(spec.prompt)
        let count = spec.scenes ?? (spec.kind == .image ? 1 : min(PlanRequest.maximumScenes,
                                                                  max(1, beats.count > 1 ? beats.count : Int((spec.durationS / 3).rounded()))))
        let groups = assign(beats.isEmpty ? [spec.prompt] : beats, to: count)
        var scenes: [PlannedScene] = []
        var shotsPerBeat: [Int: Int] = [:]
        for (position, (beatIndex, text)) in groups.enumerated() {
            let repeatIndex = shotsPerBeat[beatIndex, default: 0]
            shotsPerBeat[beatIndex] = repeatIndex + 1
            let shot = shot(position: position, repeatIndex: repeatIndex, kind: spec.kind)
            let words = PromptText.words(text)
            let look = PromptLook(prompt: text, negativePrompt: spec.negativePrompt)
            let description = repeatIndex == 0 ? PromptText.sentenceCase(text) : "\(framing[shot] ?? "") \(text)"
            scenes.append(PlannedScene(
                index: position + 1,
                description: description,
                durationS: Double(max(words.count, 3)),
                cameraMotion: spec.kind == .image ? "static" : cameraMotion(words, shot: shot, position: position, text: text),
                transition: spec.transition ?? transition(for: direction.mood),
                // A scene's own words name its light; otherwise the light carries on from the scene before.
                timeOfDay: look.timeOfDay ?? scenes.last?.timeOfDay ?? direction.timeOfDay,
                shot: shot
            ))
        }
        let weights = scenes.map(\.durationS)
        let durations = PlanValidator.spread(spec.durationS, weights: weights)
        for index in scenes.indices {
            scenes[index].durationS = spec.kind == .image ? 0 : durations[index]
        }
        scenes[scenes.count - 1].transition = "none"
        return Plan(creativeDirection: direction, scenes: scenes)
    }

    static func direction(for spec: PlanSpec) -> CreativeDirection {
        let look = PromptLook(prompt: spec.prompt, negativePrompt: spec.negativePrompt)
        let words = PromptText.words(spec.prompt)
        // The strongest reference (a clip before an image) sets defaults; words refine them.
        let reference = spec.references.first
        let timeOfDay = look.timeOfDay ?? reference?.timeOfDay ?? "day"
        let mood = PromptText.firstMatch(words, moodWords) ?? moodFromLook(timeOfDay: timeOfDay, weather: look.weather)
        let pacing = PromptText.firstMatch(words, pacingWords) ?? reference?.pacing ?? (["serene", "calm", "wistful", "melancholic"].contains(mood)
            ? "slow" : (["dramatic", "tense", "energetic"].contains(mood) ? "fast" : "moderate"))
        return CreativeDirection(
            kind: spec.kind.rawValue,
            style: spec.style ?? PromptText.firstMatch(words, styleWords) ?? "cinematic",
            mood: mood,
            palette: Array(((reference?.features.palette ?? []) + look.palette).prefix(5)),
            camera: PromptText.firstMatch(words, cameraWords) ?? "steady",
            pacing: pacing,
            aspect: spec.aspect ?? PromptText.firstMatch(words, aspectWords) ?? reference?.aspect ?? (spec.kind == .image ? "1:1" : "16:9"),
            durationS: spec.durationS,
            timeOfDay: timeOfDay,
            setting: look.setting,
            subjects: look.subjects
        )
    }

    /// Beats spread over `count` scenes, in order: several beats share a scene when there are
    /// more beats than scenes; a beat is shown in several shots when there are fewer.
    static func assign(_ beats: [String], to count: Int) -> [(beat: Int, text: String)] {
        if beats.count >= count {
            return (0..<count).map { scene in
                let range = (scene * beats.count / count)..<((scene + 1) * beats.count / count)
                return (range.lowerBound, beats[range].joined(separator: "; "))
            }
        }
        return (0..<count).map { scene in
            let beat = scene * beats.count / count
            return (beat, beats[beat])
        }
    }

    /// Each beat opens wide, then comes closer; a still image is a medium shot.
    static func shot(position: Int, repeatIndex: Int, kind: JobKind) -> String {
        if kind == .image { return "medium" }
        return ["wide", "medium", "close"][repeatIndex % 3]
    }

    static let framing = ["wide": "Wide view:", "medium": "Closer:", "close": "Close on the detail:"]

    /// A move the words ask for, or one that suits the shot.
    static func cameraMotion(_ words: [String], shot: String, position: Int, text: String) -> String {
        let present = Set(words)
        if present.contains("pan") || present.contains("panning") {
            return present.contains("left") ? "pan_left" : "pan_right"
        }
        if let named = PromptText.firstMatch(words, motionWords) { return named }
        switch shot {
        case "wide": return PromptText.digest(text) % 2 == 0 ? "pan_right" : "pan_left"
        case "medium": return "zoom_in"
        default: return position % 2 == 0 ? "static" : "zoom_in"
        }
    }

    static func transition(for mood: String) -> String {
        switch mood {
        case "serene", "calm", "wistful", "hopeful", "melancholic": "dissolve"
        case "dramatic", "tense": "fadeblack"
        case "joyful", "energetic", "whimsical": "slideleft"
        default: "fade"
        }
    }

    static func moodFromLook(timeOfDay: String, weather: [String]) -> String {
        if weather.contains("storm") { return "dramatic" }
        if weather.contains("fog") { return "mysterious" }
        if weather.contains("snow") { return "serene" }
        return ["dawn": "hopeful", "dusk": "wistful", "night": "mysterious"][timeOfDay] ?? "calm"
    }

    static let moodWords: KeyValuePairs<String, String> = [
        "serene": "serene", "peaceful": "serene", "tranquil": "serene", "quiet": "serene", "calm": "calm",
        "dramatic": "dramatic", "epic": "dramatic", "storm": "dramatic", "tense": "tense", "chase": "tense",
        "danger": "tense", "eerie": "mysterious", "mysterious": "mysterious", "haunted": "mysterious",
        "joyful": "joyful", "happy": "joyful", "playful": "whimsical", "whimsical": "whimsical", "magical": "whimsical",
        "sad": "melancholic", "lonely": "melancholic", "melancholy": "melancholic", "energetic": "energetic",
        "hopeful": "hopeful", "nostalgic": "wistful",
    ]

    static let pacingWords: KeyValuePairs<String, String> = [
        "slow": "slow", "slowly": "slow", "gentle": "slow", "lingering": "slow", "leisurely": "slow",
        "fast": "fast", "quick": "fast", "rapid": "fast", "frantic": "fast", "action": "fast", "racing": "fast",
    ]

    static let styleWords: KeyValuePairs<String, String> = [
        "watercolor": "watercolor", "watercolour": "watercolor", "anime": "anime", "noir": "film noir",
        "photorealistic": "photorealistic", "realistic": "photorealistic", "pixel": "pixel art", "oil": "oil painting",
        "painterly": "oil painting", "sketch": "pencil sketch", "claymation": "claymation", "vaporwave": "vaporwave",
        "documentary": "documentary", "minimalist": "minimalist", "cinematic": "cinematic",
    ]

    static let cameraWords: KeyValuePairs<String, String> = [
        "aerial": "aerial", "drone": "aerial", "overhead": "aerial", "flyover": "aerial",
        "handheld": "handheld", "documentary": "handheld", "shaky": "handheld",
    ]

    static let aspectWords: KeyValuePairs<String, String> = [
        "vertical": "9:16", "portrait": "9:16", "reel": "9:16", "story": "9:16", "square": "1:1",
        "ultrawide": "21:9", "anamorphic": "21:9", "panoramic": "21:9", "widescreen": "16:9",
    ]

    static let motionWords: KeyValuePairs<String, String> = [
        "rises": "tilt_up", "rising": "tilt_up", "ascends": "tilt_up", "climbs": "tilt_up", "soars": "tilt_up",
        "falls": "tilt_down", "descends": "tilt_down", "sinks": "tilt_down", "dives": "tilt_down",
        "approaches": "zoom_in", "closer": "zoom_in", "towards": "zoom_in", "toward": "zoom_in", "enters": "zoom_in",
        "reveals": "zoom_out", "recedes": "zoom_out", "retreats": "zoom_out", "away": "zoom_out", "departs": "zoom_out",
        "still": "static", "waits": "static", "sleeps": "static", "rests": "static",
    ]
}
