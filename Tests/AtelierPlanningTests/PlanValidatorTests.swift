import AtelierCore
import AtelierPlanning
import Foundation
import Testing

@Suite("The plan validator repairs or rejects a provider's answer")
struct PlanValidatorTests {
    func brief(scenes: Int? = 4, duration: Double = 12, transition: String? = nil) throws -> PlanningBrief {
        PlanningBrief(spec: try PlanRequest(prompt: "a lighthouse in a storm at night",
                                            options: PlanOptions(scenes: scenes, durationS: duration, transition: transition)).resolved())
    }

    func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test("missing scenes are filled, durations spread over the total, and every repair is a warning")
    func repairs() throws {
        let answer = try json("""
        {"creative_direction": {"style": "oil painting", "mood": "Dramatic", "palette": ["#112233", "a0b0c0", "nope"],
         "camera": "steady", "pacing": "fast", "aspect": "16:9", "time_of_day": "night", "setting": "coast"},
         "scenes": [
          {"description": "The lighthouse beam cuts the rain", "duration_s": 2, "camera_motion": "Push In", "transition": "crossfade", "time_of_day": "night", "shot": "wide"},
          {"description": "Waves break on the rocks", "duration_s": "2", "camera_motion": "spin", "transition": "dissolve", "time_of_day": "midnight", "shot": "close-up"},
          {"description": "The keeper climbs the stairs", "duration_s": 2, "camera_motion": "tilt_up", "transition": "fade", "time_of_day": "night", "shot": "medium"}
         ]}
        """)
        let checked = try PlanValidator.check(.json(answer), brief: try brief())
        let plan = checked.plan
        #expect(plan.scenes.count == 4)
        #expect(plan.scenes.map(\.index) == [1, 2, 3, 4])
        #expect(abs(plan.scenes.map(\.durationS).reduce(0, +) - 12) < 1e-9)
        #expect(plan.scenes[0].durationS == 3)
        #expect(plan.scenes[0].cameraMotion == "zoom_in")
        #expect(plan.scenes[0].transition == "fade")
        #expect(plan.scenes[1].timeOfDay == "night")
        #expect(plan.scenes[1].shot == "close")
        #expect(Vocabulary.cameraMotions.contains(plan.scenes[1].cameraMotion))
        #expect(plan.scenes[3].transition == "none")
        #expect(plan.creativeDirection.style == "oil painting")
        #expect(plan.creativeDirection.mood == "dramatic")
        #expect(plan.creativeDirection.palette == ["#112233", "#A0B0C0"])
        #expect(plan.creativeDirection.durationS == 12)
        let codes = checked.warnings.map(\.code)
        #expect(codes.contains("scene_filled"))
        #expect(codes.contains("durations_normalised"))
        #expect(codes.contains("scene_repaired"))
        #expect(checked.warnings.first { $0.code == "scene_repaired" }?.scene == 2)
        #expect(checked.confidence.structure < 1)
        #expect(checked.confidence.timing < 1)
    }

    @Test("an answer that is not a plan is rejected")
    func rejects() throws {
        for text in [#"[1, 2]"#, #"{"creative_direction": {}}"#, #"{"scenes": "three"}"#,
                     #"{"scenes": [{"duration_s": 3}, {"description": "   "}]}"#] {
            #expect(throws: PlannerFailure.self, "\(text)") { try PlanValidator.check(.json(try json(text)), brief: try brief()) }
        }
    }

    @Test("extra scenes are dropped, a wrapped plan is unwrapped, a missing direction is filled")
    func truncatesAndFills() throws {
        let scenes = (1...6).map { #"{"description": "shot \#($0)", "duration_s": 1}"# }.joined(separator: ",")
        let checked = try PlanValidator.check(.json(try json(#"{"plan": {"scenes": [\#(scenes)]}}"#)), brief: try brief())
        #expect(checked.plan.scenes.map(\.description) == ["shot 1", "shot 2", "shot 3", "shot 4"])
        #expect(checked.warnings.map(\.code).contains("scenes_truncated"))
        #expect(checked.warnings.map(\.code).contains("direction_filled"))
        #expect(checked.plan.creativeDirection.timeOfDay == "night")
    }

    @Test("the built-in plan passes untouched, with full structure and timing confidence")
    func builtinIsClean() throws {
        let brief = try brief(scenes: 3, duration: 7.5, transition: "dissolve")
        let checked = try PlanValidator.check(.plan(brief.baseline), brief: brief)
        #expect(checked.plan == brief.baseline)
        #expect(checked.warnings.isEmpty)
        #expect(checked.confidence.structure == 1)
        #expect(checked.confidence.timing == 1)
        #expect(checked.plan.scenes.map(\.transition) == ["dissolve", "dissolve", "none"])
    }

    @Test("spreading a total gives whole hundredths that add up exactly, in proportion")
    func spread() {
        #expect(PlanValidator.spread(10, weights: [1, 1, 1]) == [3.34, 3.33, 3.33])
        #expect(PlanValidator.spread(12, weights: [1, 2, 3]) == [2, 4, 6])
        #expect(PlanValidator.spread(5, weights: [0, 0]) == [2.5, 2.5])
        for total in [1.0, 7.25, 12, 119.99] {
            for count in 1...12 {
                let weights = (0..<count).map { Double($0 % 4 + 1) }
                let parts = PlanValidator.spread(total, weights: weights)
                #expect(parts.count == count)
                #expect(Int((parts.reduce(0, +) * 100).rounded()) == Int((total * 100).rounded()))
            }
        }
    }
}
