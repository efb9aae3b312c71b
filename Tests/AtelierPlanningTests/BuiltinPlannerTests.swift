import AtelierCore
import AtelierPlanning
import Testing

@Suite("The built-in planner")
struct BuiltinPlannerTests {
    func spec(_ prompt: String, kind: String = "video", scenes: Int? = nil, duration: Double? = nil,
              aspect: String? = nil, style: String? = nil, transition: String? = nil) throws -> PlanSpec {
        try PlanRequest(prompt: prompt, options: PlanOptions(kind: kind, scenes: scenes, durationS: duration, aspect: aspect,
                                                             style: style, transition: transition)).resolved()
    }

    @Test("the same request always gives the same plan, and different prompts different plans")
    func determinism() throws {
        let prompt = "A lighthouse on a cliff at dusk, waves crashing, then gulls circle the beacon at night"
        let first = BuiltinPlanner.plan(for: try spec(prompt))
        for _ in 0..<5 { #expect(BuiltinPlanner.plan(for: try spec(prompt)) == first) }
        let other = BuiltinPlanner.plan(for: try spec("a desert caravan at noon"))
        #expect(other != first)
        #expect(other.creativeDirection.setting == "desert")
        #expect(other.creativeDirection.palette != first.creativeDirection.palette)
    }

    @Test("a prompt's beats become scenes in order, each with the light its words name")
    func beatsBecomeScenes() throws {
        let plan = BuiltinPlanner.plan(for: try spec(
            "A fox wakes in the snowy forest at dawn. It runs across the frozen river, then it rests by the lake under the stars"))
        #expect(plan.scenes.count == 3)
        #expect(plan.scenes.map(\.index) == [1, 2, 3])
        #expect(plan.scenes[0].description.hasPrefix("A fox wakes"))
        #expect(plan.scenes[1].description.hasPrefix("It runs across"))
        #expect(plan.scenes[2].description.hasPrefix("It rests by the lake"))
        #expect(plan.scenes[0].timeOfDay == "dawn")
        // Scene 2 names no light, so dawn carries on until scene 3's stars.
        #expect(plan.scenes[1].timeOfDay == "dawn")
        #expect(plan.scenes[2].timeOfDay == "night")
        #expect(plan.scenes.map(\.durationS).reduce(0, +) == 12)
        #expect(plan.scenes.last?.transition == "none")
        #expect(plan.scenes.dropLast().allSatisfy { $0.transition != "none" })
        #expect(plan.creativeDirection.subjects.contains("fox"))
    }

    @Test("a single beat over several scenes is shown wide, then closer; durations fill the total exactly")
    func singleBeatSeveralScenes() throws {
        let plan = BuiltinPlanner.plan(for: try spec("a red fox in fresh snow", scenes: 4, duration: 10))
        #expect(plan.scenes.count == 4)
        #expect(plan.scenes.map(\.shot) == ["wide", "medium", "close", "wide"])
        #expect(abs(plan.scenes.map(\.durationS).reduce(0, +) - 10) < 1e-9)
        #expect(Set(plan.scenes.map(\.cameraMotion)).isSubset(of: Vocabulary.cameraMotions))
    }

    @Test("more beats than scenes are grouped, and nothing of the prompt is lost")
    func moreBeatsThanScenes() throws {
        let plan = BuiltinPlanner.plan(for: try spec("one bird. two boats. three towers. four trees. five houses", scenes: 2))
        #expect(plan.scenes.count == 2)
        let text = plan.scenes.map(\.description).joined(separator: " ").lowercased()
        for word in ["bird", "boats", "towers", "trees", "houses"] { #expect(text.contains(word)) }
    }

    @Test("options the caller gives win over what the words suggest")
    func optionsWin() throws {
        let plan = BuiltinPlanner.plan(for: try spec("a vertical watercolor of a castle", scenes: 3, duration: 9,
                                                     aspect: "21:9", style: "claymation", transition: "wipeleft"))
        #expect(plan.creativeDirection.aspect == "21:9")
        #expect(plan.creativeDirection.style == "claymation")
        #expect(plan.scenes.map(\.transition) == ["wipeleft", "wipeleft", "none"])
        let words = BuiltinPlanner.plan(for: try spec("a vertical watercolor of a castle"))
        #expect(words.creativeDirection.aspect == "9:16")
        #expect(words.creativeDirection.style == "watercolor")
    }

    @Test("an image plan is one still scene")
    func imagePlan() throws {
        let plan = BuiltinPlanner.plan(for: try spec("a castle at night", kind: "image", scenes: 5))
        #expect(plan.scenes.count == 1)
        #expect(plan.scenes[0].durationS == 0)
        #expect(plan.scenes[0].cameraMotion == "static")
        #expect(plan.creativeDirection.kind == "image")
        #expect(plan.creativeDirection.timeOfDay == "night")
    }

    @Test("requests that break a rule name the field")
    func invalidRequests() {
        let cases: [(PlanRequest, String)] = [
            (PlanRequest(prompt: "  "), "prompt"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(scenes: 0)), "options.scenes"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(scenes: 13)), "options.scenes"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(durationS: 0.5)), "options.duration_s"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(durationS: 121)), "options.duration_s"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(aspect: "2:1")), "options.aspect"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(kind: "sculpture")), "options.kind"),
            (PlanRequest(prompt: "a fox", options: PlanOptions(transition: "spin")), "options.transition"),
            (PlanRequest(prompt: "a fox", edit: "slower"), "plan"),
            (PlanRequest(prompt: String(repeating: "a", count: 4001)), "prompt"),
        ]
        for (request, field) in cases {
            #expect(throws: ValidationError.self, "\(field)") { try request.resolved() }
            do {
                _ = try request.resolved()
            } catch {
                #expect(error.field == field)
            }
        }
    }
}
