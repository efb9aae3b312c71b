import AtelierCore
import Foundation

/// Checks a draft against the plan schema and the request, repairing what can be repaired:
/// missing or unknown fields take the built-in plan's values, missing scenes are filled,
/// extra scenes dropped, durations spread to the requested total. A draft that is not a plan
/// at all — not an object, no scene list, no scene with a description — is rejected.
public enum PlanValidator {
    public struct Checked: Sendable, Hashable {
        public var plan: Plan
        public var warnings: [PlanWarning]
        public var confidence: PlanConfidence
    }

    /// The longest scene description kept.
    public static let maximumDescriptionLength = 500

    public static func check(_ draft: PlanDraft, brief: PlanningBrief) throws(PlannerFailure) -> Checked {
        switch draft {
        case .json(let value):
            return try repair(value, brief: brief)
        case .plan(let plan):
            guard let value = try? JSONValue(encoding: plan) else {
                throw PlannerFailure(.rejected, "the plan could not be encoded")
            }
            return try repair(value, brief: brief)
        }
    }

    static func repair(_ answer: JSONValue, brief: PlanningBrief) throws(PlannerFailure) -> Checked {
        let spec = brief.spec
        let baseline = brief.baseline
        var root = answer
        // Models sometimes wrap the plan: {"plan": {...}}.
        if root["scenes"] == nil, let inner = root["plan"] { root = inner }
        guard case .object = root else { throw PlannerFailure(.rejected, "the answer is not a JSON object") }
        guard case .array(let items)? = root["scenes"] else {
            throw PlannerFailure(.rejected, "the answer has no scenes array")
        }
        var warnings: [PlanWarning] = []
        var repairs = 0
        func repaired(_ code: String, _ message: String, scene: Int? = nil) {
            repairs += 1
            warnings.append(PlanWarning(code: code, message: message, scene: scene))
        }

        // Creative direction: each field as given when valid, the built-in plan's otherwise.
        let given = root["creative_direction"]
        if given == nil { repaired("direction_filled", "the creative direction was missing; the built-in planner's was used") }
        var direction = baseline.creativeDirection
        func text(_ key: String, _ allowed: ((String) -> String?)? = nil) -> String? {
            guard let given, let value = given[key]?.string?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty,
                  value.count <= 200 else { return nil }
            return allowed.map { $0(value) } ?? value
        }
        var invalid: [String] = []
        if given != nil {
            if let style = text("style") { direction.style = style } else { invalid.append("style") }
            if let mood = text("mood") { direction.mood = mood.lowercased() } else { invalid.append("mood") }
            if let camera = text("camera", { Vocabulary.cameras.contains($0.lowercased()) ? $0.lowercased() : nil }) {
                direction.camera = camera
            } else { invalid.append("camera") }
            if let pacing = text("pacing", Vocabulary.pacing) { direction.pacing = pacing } else { invalid.append("pacing") }
            if let time = text("time_of_day", Vocabulary.timeOfDay) { direction.timeOfDay = time } else { invalid.append("time_of_day") }
            if let aspect = text("aspect", { Vocabulary.size(of: $0) == nil ? nil : $0 }) { direction.aspect = aspect } else { invalid.append("aspect") }
            if let setting = text("setting") { direction.setting = setting.lowercased() }
            if case .array(let colours)? = given?["palette"] {
                let parsed = colours.compactMap { $0.string.flatMap(hexColour) }
                if parsed.isEmpty { invalid.append("palette") } else { direction.palette = Array(parsed.prefix(8)) }
            } else { invalid.append("palette") }
            if case .array(let subjects)? = given?["subjects"] {
                direction.subjects = Array(subjects.compactMap(\.string).prefix(12))
            }
        }
        if !invalid.isEmpty {
            repaired("direction_repaired", "creative direction fields missing or invalid, built-in values used: \(invalid.joined(separator: ", "))")
        }
        // What the caller pinned down is not the provider's to change.
        direction.kind = spec.kind.rawValue
        direction.durationS = spec.durationS
        if let style = spec.style { direction.style = style }
        if let aspect = spec.aspect { direction.aspect = aspect }

        // Scenes: each needs a description; other fields are repaired.
        var scenes: [PlannedScene] = []
        var givenDurations: [Double?] = []
        for (position, item) in items.enumerated() {
            guard let raw = item["description"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
                repaired("scene_dropped", "scene \(position + 1) had no description and was dropped", scene: position + 1)
                continue
            }
            let fallback = baseline.scenes[min(scenes.count, baseline.scenes.count - 1)]
            var fields: [String] = []
            func field(_ key: String, _ map: (String) -> String?, _ otherwise: String) -> String {
                if let value = item[key]?.string, let known = map(value) { return known }
                fields.append(key)
                return otherwise
            }
            let number = scenes.count + 1
            let scene = PlannedScene(
                index: number,
                description: String(raw.prefix(maximumDescriptionLength)),
                durationS: 0,
                cameraMotion: field("camera_motion", Vocabulary.cameraMotion, fallback.cameraMotion),
                transition: field("transition", Vocabulary.transition, fallback.transition),
                timeOfDay: field("time_of_day", Vocabulary.timeOfDay, direction.timeOfDay),
                shot: field("shot", Vocabulary.shot, fallback.shot)
            )
            let duration = item["duration_s"]?.number.flatMap { $0 > 0 ? $0 : nil }
            if duration == nil && spec.kind == .video { fields.append("duration_s") }
            if !fields.isEmpty {
                repaired("scene_repaired", "scene \(number): \(fields.joined(separator: ", ")) missing or not recognised", scene: number)
            }
            scenes.append(scene)
            givenDurations.append(duration)
        }
        guard !scenes.isEmpty else { throw PlannerFailure(.rejected, "no scene in the answer has a description") }

        let wanted = spec.scenes ?? min(scenes.count, PlanRequest.maximumScenes)
        if scenes.count > wanted {
            repaired("scenes_truncated", "the answer had \(scenes.count) scenes; the first \(wanted) were kept")
            scenes.removeLast(scenes.count - wanted)
            givenDurations.removeLast(givenDurations.count - wanted)
        }
        while scenes.count < wanted {
            var filler = baseline.scenes[min(scenes.count, baseline.scenes.count - 1)]
            filler.index = scenes.count + 1
            repaired("scene_filled", "scene \(filler.index) was missing and was filled by the built-in planner", scene: filler.index)
            scenes.append(filler)
            givenDurations.append(nil)
        }
        if let transition = spec.transition {
            for index in scenes.indices { scenes[index].transition = transition }
        }
        scenes[scenes.count - 1].transition = "none"

        // Durations: the answer's proportions, spread exactly over the requested total.
        var timing = 1.0
        if spec.kind == .video {
            let known = givenDurations.compactMap { $0 }
            let mean = known.isEmpty ? spec.durationS / Double(scenes.count) : known.reduce(0, +) / Double(known.count)
            let weights = givenDurations.map { $0 ?? mean }
            let sum = weights.reduce(0, +)
            let error = abs(sum - spec.durationS) / spec.durationS
            timing = max(0, 1 - error) * Double(known.count) / Double(scenes.count)
            if error > 0.01 {
                warnings.append(PlanWarning(code: "durations_normalised",
                                            message: "scene durations added up to \(format(sum)) s and were scaled to \(format(spec.durationS)) s"))
            }
            let durations = spread(spec.durationS, weights: weights)
            for index in scenes.indices { scenes[index].durationS = durations[index] }
        } else {
            for index in scenes.indices {
                scenes[index].durationS = 0
                scenes[index].cameraMotion = "static"
                scenes[index].transition = "none"
            }
        }

        let plan = Plan(creativeDirection: direction, scenes: scenes)
        let confidence = PlanConfidence(structure: 1 - 0.1 * Double(repairs), timing: timing,
                                        coverage: coverage(of: plan, prompt: spec.prompt, edit: brief.edit))
        return Checked(plan: plan, warnings: warnings, confidence: confidence)
    }

    /// `total` seconds shared in proportion to `weights`, in whole hundredths that add up exactly
    /// (largest remainders get the leftover hundredths).
    public static func spread(_ total: Double, weights: [Double]) -> [Double] {
        guard !weights.isEmpty else { return [] }
        let hundredths = Int((total * 100).rounded())
        let clean = weights.map { $0.isFinite && $0 > 0 ? $0 : 0 }
        let sum = clean.reduce(0, +)
        let shares = sum > 0 ? clean.map { $0 / sum * Double(hundredths) } : clean.map { _ in Double(hundredths) / Double(clean.count) }
        var parts = shares.map { Int($0.rounded(.down)) }
        var left = hundredths - parts.reduce(0, +)
        for index in shares.indices.sorted(by: { shares[$0] - Double(parts[$0]) > shares[$1] - Double(parts[$1]) }) where left > 0 {
            parts[index] += 1
            left -= 1
        }
        return parts.map { Double($0) / 100 }
    }

    /// The share of the prompt's content words that the plan's text takes up.
    static func coverage(of plan: Plan, prompt: String, edit: String?) -> Double {
        let wanted = PromptText.contentWords(prompt)
        guard !wanted.isEmpty else { return 1 }
        let direction = plan.creativeDirection
        let planText = (plan.scenes.map(\.description) + [direction.style, direction.mood, direction.setting, direction.timeOfDay]
            + direction.subjects).joined(separator: " ")
        let present = PromptText.contentWords(planText)
        return Double(wanted.intersection(present).count) / Double(wanted.count)
    }

    static func hexColour(_ text: String) -> String? {
        var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
        if digits.hasPrefix("#") { digits.removeFirst() }
        guard digits.count == 6, digits.allSatisfy(\.isHexDigit) else { return nil }
        return "#" + digits
    }

    static func format(_ seconds: Double) -> String {
        String(format: "%.2f", seconds)
    }
}
