import AtelierCore
import AtelierPlanning
import Testing

@Suite("Editing a plan in words")
struct PlanEditTests {
    let prompt = "A harbour town wakes at dawn. Fishing boats leave the quay. Gulls follow the boats. The boats return at dusk"

    func plan() throws -> (Plan, PlanSpec) {
        let spec = try PlanRequest(prompt: prompt, options: PlanOptions(durationS: 16)).resolved()
        return (BuiltinPlanner.plan(for: spec), spec)
    }

    func edited(_ instruction: String, _ previous: Plan) throws -> Plan {
        let spec = try PlanRequest(prompt: nil, plan: previous, edit: instruction).resolved()
        return BuiltinPlanner.baseline(for: spec, previous: previous, edit: instruction)
    }

    @Test("\"make scene 2 a night shot, slower\" changes scene 2 and keeps the rest")
    func nightShotSlower() throws {
        let (previous, _) = try plan()
        #expect(previous.scenes.count == 4)
        let revised = try edited("make scene 2 a night shot, slower", previous)
        #expect(revised.scenes[1].timeOfDay == "night")
        #expect(previous.scenes[1].timeOfDay != "night")
        #expect(revised.scenes[1].durationS > previous.scenes[1].durationS)
        #expect(abs(revised.scenes.map(\.durationS).reduce(0, +) - 16) < 1e-9)
        for index in [0, 2, 3] {
            #expect(revised.scenes[index].description == previous.scenes[index].description)
            #expect(revised.scenes[index].timeOfDay == previous.scenes[index].timeOfDay)
            #expect(revised.scenes[index].cameraMotion == previous.scenes[index].cameraMotion)
            #expect(revised.scenes[index].durationS <= previous.scenes[index].durationS)
        }
        #expect(revised.scenes[1].description == previous.scenes[1].description)
        #expect(revised.creativeDirection == previous.creativeDirection)
    }

    @Test("a scene can be redescribed, reframed, removed or added")
    func structuralEdits() throws {
        let (previous, _) = try plan()
        let described = try edited("scene 3 shows a lighthouse in the rain, close up", previous)
        #expect(described.scenes[2].description.hasPrefix("A lighthouse in the rain"))
        #expect(described.scenes[2].shot == "close")
        #expect(described.scenes[0] == previous.scenes[0])

        let removed = try edited("remove scene 4", previous)
        #expect(removed.scenes.count == 3)
        #expect(removed.scenes.map(\.index) == [1, 2, 3])
        #expect(removed.scenes.last?.transition == "none")
        #expect(abs(removed.scenes.map(\.durationS).reduce(0, +) - 16) < 1e-9)

        let added = try edited("add a scene of lanterns over the water", previous)
        #expect(added.scenes.count == 5)
        #expect(added.scenes[4].description.hasPrefix("Lanterns over the water"))
        #expect(added.scenes[3].transition != "none")
        #expect(added.scenes[4].transition == "none")
    }

    @Test("edits without a scene change the whole plan; nonsense changes nothing")
    func wholePlanEdits() throws {
        let (previous, _) = try plan()
        let styled = try edited("watercolor style, pan left", previous)
        #expect(styled.creativeDirection.style == "watercolor")
        #expect(styled.scenes.allSatisfy { $0.cameraMotion == "pan_left" })
        #expect(try edited("qwerty zxcv", previous) == previous)
    }
}
