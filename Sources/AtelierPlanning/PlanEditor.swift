import Foundation

/// Applies an edit instruction in words to a plan, changing only what the instruction names:
/// "make scene 2 a night shot, slower", "scene 3 shows a lighthouse", "remove scene 4",
/// "add a scene of gulls over the harbour", "use dissolves", "watercolor style".
///
/// Clauses are read one at a time (split at commas, "and" and semicolons); a clause that names
/// a scene ("scene 2", "the last scene") changes that scene, and the clauses after it that name
/// none change the same scene. Slower and faster lengthen or shorten the scene by half and
/// re-spread the others so the total stays as asked.
enum PlanEditor {
    static func apply(_ instruction: String, to previous: Plan, spec: PlanSpec) -> Plan {
        var plan = previous
        var target: Set<Int>? = nil
        var weights = plan.scenes.map { max($0.durationS, 0.01) }
        var understood = false
        for clause in clauses(instruction) {
            let words = PromptText.words(clause)
            if let named = scenes(named: words, count: plan.scenes.count) { target = named }
            let present = Set(words)
            if present.contains("remove") || present.contains("delete") || present.contains("drop") {
                if let target, plan.scenes.count > target.count {
                    for index in target.sorted(by: >) {
                        plan.scenes.remove(at: index)
                        weights.remove(at: index)
                    }
                    understood = true
                }
                target = nil
                continue
            }
            if present.contains("add"), let text = described(clause, after: ["of", "showing", "with", "where"]),
               plan.scenes.count < PlanRequest.maximumScenes {
                var scene = plan.scenes[plan.scenes.count - 1]
                scene.description = PromptText.sentenceCase(text)
                scene.shot = "wide"
                scene.transition = "none"
                // The old last scene now hands over to the new one, as the others do.
                let handover = plan.scenes.first { $0.transition != "none" }?.transition ?? "fade"
                plan.scenes[plan.scenes.count - 1].transition = handover
                plan.scenes.append(scene)
                weights.append(weights.reduce(0, +) / Double(weights.count))
                understood = true
                continue
            }
            let indexes = target.map { Array($0).sorted() } ?? Array(plan.scenes.indices)
            for index in indexes {
                if let time = PromptText.firstMatch(words, timeWords) {
                    plan.scenes[index].timeOfDay = time
                    understood = true
                }
                if let motion = motion(words) {
                    plan.scenes[index].cameraMotion = motion
                    understood = true
                }
                if let shot = PromptText.firstMatch(words, shotWords) {
                    plan.scenes[index].shot = shot
                    understood = true
                }
                if let transition = transition(clause) {
                    plan.scenes[index].transition = transition
                    understood = true
                }
                if present.contains("slower") || present.contains("longer") {
                    weights[index] *= 1.5
                    understood = true
                }
                if present.contains("faster") || present.contains("shorter") || present.contains("quicker") {
                    weights[index] /= 1.5
                    understood = true
                }
                if target != nil, let text = described(clause, after: ["shows", "show", "about", "depicts", "with", "into"]) {
                    plan.scenes[index].description = PromptText.sentenceCase(text)
                    understood = true
                }
            }
            if target == nil {
                if let style = PromptText.firstMatch(words, BuiltinPlanner.styleWords) {
                    plan.creativeDirection.style = style
                    understood = true
                }
                if let mood = PromptText.firstMatch(words, BuiltinPlanner.moodWords) {
                    plan.creativeDirection.mood = mood
                    understood = true
                }
                if present.contains("slower") { plan.creativeDirection.pacing = "slow" }
                if present.contains("faster") { plan.creativeDirection.pacing = "fast" }
            }
        }
        if !understood { return previous }
        let durations = PlanValidator.spread(spec.durationS, weights: weights)
        for index in plan.scenes.indices {
            plan.scenes[index].index = index + 1
            plan.scenes[index].durationS = spec.kind == .image ? 0 : durations[index]
        }
        if plan.scenes[plan.scenes.count - 1].transition != "none", plan.scenes.count != previous.scenes.count {
            plan.scenes[plan.scenes.count - 1].transition = "none"
        }
        plan.creativeDirection.durationS = spec.durationS
        return plan
    }

    static func clauses(_ instruction: String) -> [String] {
        var pieces = [instruction]
        for separator in [",", ";", " and ", "."] {
            pieces = pieces.flatMap { $0.components(separatedBy: separator) }
        }
        return pieces.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Scene indexes (0-based) a clause names: "scene 2", "scenes 2 3", "the first scene", "the last scene", "all scenes".
    static func scenes(named words: [String], count: Int) -> Set<Int>? {
        guard let position = words.firstIndex(where: { $0 == "scene" || $0 == "scenes" || $0 == "shot" }) else { return nil }
        var found: Set<Int> = []
        for word in words[(position + 1)...] {
            if let number = Int(word), (1...count).contains(number) { found.insert(number - 1) } else if word != "and" { break }
        }
        if position > 0 {
            switch words[position - 1] {
            case "first", "opening": found.insert(0)
            case "second": if count > 1 { found.insert(1) }
            case "third": if count > 2 { found.insert(2) }
            case "last", "final", "closing": found.insert(count - 1)
            case "all", "every", "each": return nil
            default: break
            }
        }
        return found.isEmpty ? nil : found
    }

    /// The text after the first of `markers` in the clause ("scene 3 shows a lighthouse" → "a lighthouse").
    static func described(_ clause: String, after markers: [String]) -> String? {
        for marker in markers {
            if let range = clause.range(of: " \(marker) ", options: .caseInsensitive) {
                let text = clause[range.upperBound...].trimmingCharacters(in: .whitespaces)
                if PromptText.contentWords(text).count >= 1 { return text }
            }
        }
        return nil
    }

    static func motion(_ words: [String]) -> String? {
        let joined = words.joined(separator: "_")
        for motion in Vocabulary.cameraMotions where joined.contains(motion) { return motion }
        if words.contains("pan") { return words.contains("left") ? "pan_left" : "pan_right" }
        if words.contains("zoom") { return words.contains("out") ? "zoom_out" : "zoom_in" }
        if words.contains("tilt") { return words.contains("down") ? "tilt_down" : "tilt_up" }
        if words.contains("static") || words.contains("still") { return "static" }
        return nil
    }

    static func transition(_ clause: String) -> String? {
        let words = PromptText.words(clause)
        for word in words {
            let singular = word.hasSuffix("s") ? String(word.dropLast()) : word
            if singular != "none", singular != "fade" || words.contains("transition") || words.contains("fades"),
               let name = Vocabulary.transition(singular) {
                return name
            }
        }
        return nil
    }

    static let timeWords: KeyValuePairs<String, String> = [
        "night": "night", "nighttime": "night", "midnight": "night", "moonlit": "night",
        "dusk": "dusk", "sunset": "dusk", "evening": "dusk", "twilight": "dusk",
        "dawn": "dawn", "sunrise": "dawn", "morning": "dawn", "day": "day", "daytime": "day", "noon": "day",
    ]

    static let shotWords: KeyValuePairs<String, String> = [
        "closeup": "close", "close": "close", "detail": "close", "wide": "wide", "establishing": "wide", "medium": "medium",
    ]
}
