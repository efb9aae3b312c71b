import AtelierCore
import Foundation

/// What language-model planners are told, and how their answers are read. Both providers send
/// the same instructions; only the envelope differs.
enum ModelPlannerPrompt {
    static let system = """
    You are the planner of a video and image generation platform. Turn the user's request into a \
    production plan and answer with ONE JSON object and nothing else, of this shape:
    {"creative_direction": {"style": string, "mood": string, "palette": ["#RRGGBB", ...], \
    "camera": "steady"|"handheld"|"aerial", "pacing": "slow"|"moderate"|"fast", "aspect": string, \
    "time_of_day": "day"|"dawn"|"dusk"|"night", "setting": string, "subjects": [string]}, \
    "scenes": [{"index": 1, "description": string, "duration_s": number, \
    "camera_motion": \(Vocabulary.cameraMotions.map { "\"\($0)\"" }.joined(separator: "|")), \
    "transition": an ffmpeg xfade name such as "fade", "dissolve", "wipeleft", "slideleft" or "none", \
    "time_of_day": "day"|"dawn"|"dusk"|"night", "shot": "wide"|"medium"|"close"}]}
    Rules: exactly the requested number of scenes when one is given; scene durations add up to \
    the requested total; each description is one concrete, visual sentence; the last scene's \
    transition is "none". When a previous plan and an edit are given, change only what the edit \
    asks for and keep everything else exactly as it was.
    """

    /// The user turn: the request as JSON, with the built-in planner's draft as a starting point.
    static func user(_ brief: PlanningBrief) -> String {
        struct Request: Encodable {
            var prompt: String
            var negativePrompt: String?
            var kind: String
            var scenes: Int?
            var durationS: Double
            var aspect: String?
            var style: String?
            var previousPlan: Plan?
            var edit: String?
            var draft: Plan?
            var references: [ReferenceInput]

            enum CodingKeys: String, CodingKey {
                case prompt, kind, scenes, aspect, style, edit, draft, references
                case negativePrompt = "negative_prompt"
                case durationS = "duration_s"
                case previousPlan = "previous_plan"
            }
        }
        let spec = brief.spec
        let request = Request(
            prompt: spec.prompt, negativePrompt: spec.negativePrompt, kind: spec.kind.rawValue, scenes: spec.scenes,
            durationS: spec.durationS, aspect: spec.aspect, style: spec.style, previousPlan: brief.previous,
            edit: brief.edit, draft: brief.edit == nil ? brief.baseline : nil, references: spec.references
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(request)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "Plan this request (the draft is a starting point you may improve):\n\(json)"
    }

    /// The JSON object in a model's text: the whole text, or the part inside a ```json fence,
    /// or from the first `{` to the last `}`.
    static func object(in text: String) throws(PlannerFailure) -> JSONValue {
        var candidate = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let open = candidate.firstIndex(of: "{"), let close = candidate.lastIndex(of: "}"), open < close {
            candidate = String(candidate[open...close])
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(candidate.utf8)), case .object = value else {
            throw PlannerFailure(.malformed, "the model's answer is not a JSON object: \(text.prefix(120))")
        }
        return value
    }
}
