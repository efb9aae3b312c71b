import AtelierCore
import AtelierPlanning
import AtelierWire
import Foundation
import Testing

@Suite("Prompt planning over HTTP")
struct PlanningAPITests {
    @Test("POST /v1/parse plans a prompt, prices it with the cost model, and answers a repeat from the cache until it is cleared")
    func parseAndCache() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let body = PlanRequest(prompt: "A fox wakes at dawn. It hunts in the snow. It sleeps under the stars",
                                   options: PlanOptions(kind: "video", durationS: 12, aspect: "16:9"))
            let response = try await alice.send(.POST, "/v1/parse", json: body)
            #expect(response.status == 200, "\(response.text)")
            let plan = try response.decode(PlanResult.self)
            #expect(plan.provider == "builtin")
            #expect(!plan.cacheHit)
            #expect(plan.scenes.count == 3)
            #expect(plan.scenes[2].timeOfDay == "night")
            #expect(abs(plan.scenes.map(\.durationS).reduce(0, +) - 12) < 1e-9)
            #expect(plan.confidence.overall > 0.5)
            // Each scene is one job of its frames at 1280×720: the scheduler's price for it.
            let model = CostModel()
            let expected = plan.scenes.map { model.cost(width: 1280, height: 720, frames: Int(($0.durationS * 24).rounded())) }
            #expect(plan.costEstimate.perScene == expected)
            #expect(plan.costEstimate.credits == expected.reduce(0, +))
            #expect(plan.costEstimate.frames == 288)

            let again = try await alice.send(.POST, "/v1/parse", json: body).decode(PlanResult.self)
            #expect(again.cacheHit)
            #expect(again.scenes == plan.scenes)

            let refused = try await alice.send(.POST, "/v1/cache/clear")
            #expect(refused.status == 403)
            let cleared = try await server.admin.send(.POST, "/v1/cache/clear")
            #expect(cleared.status == 200)
            #expect(try cleared.decode(CacheClearedResource.self).cleared == 1)
            #expect(!(try await alice.send(.POST, "/v1/parse", json: body).decode(PlanResult.self)).cacheHit)

            #expect(try await server.client(nil).send(.POST, "/v1/parse", json: body).status == 401)
        }
    }

    @Test("an edit returns the revised plan and keeps what it does not name")
    func edit() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let first = try await alice.send(.POST, "/v1/parse", json: PlanRequest(
                prompt: "a harbour at dawn, boats leave, gulls follow, boats return", options: PlanOptions(scenes: 4))
            ).decode(PlanResult.self)
            let response = try await alice.send(.POST, "/v1/parse", json: PlanRequest(
                prompt: nil, plan: first.plan, edit: "make scene 2 a night shot, slower"))
            #expect(response.status == 200, "\(response.text)")
            let revised = try response.decode(PlanResult.self)
            #expect(revised.scenes[1].timeOfDay == "night")
            #expect(revised.scenes[1].durationS > first.scenes[1].durationS)
            #expect(revised.scenes[0].description == first.scenes[0].description)
            #expect(revised.scenes[3].timeOfDay == first.scenes[3].timeOfDay)

            let confused = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: nil, plan: first.plan, edit: "qwerty"))
            let unchanged = try confused.decode(PlanResult.self)
            #expect(unchanged.scenes == first.scenes)
            #expect(unchanged.warnings.map(\.code) == ["edit_not_understood"])
        }
    }

    @Test("a batch answers every item in order; a bad item is a problem in its place")
    func batch() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let body = #"""
            {"items": [
              {"prompt": "a castle in fog", "options": {"scenes": 2}},
              {"prompt": 7},
              {"prompt": "a fox", "options": {"scenes": 40}},
              {"prompt": "csam"},
              {"prompt": "a lighthouse", "options": {"kind": "image"}}
            ]}
            """#
            let response = try await alice.send(.POST, "/v1/parse/batch", body: Data(body.utf8))
            #expect(response.status == 200, "\(response.text)")
            let results = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])["results"] as? [[String: Any]]
            #expect(results?.count == 5)
            #expect((results?[0]["scenes"] as? [Any])?.count == 2)
            #expect(results?[1]["type"] as? String == "urn:atelier:problem:validation-failed")
            #expect(((results?[1]["errors"] as? [[String: Any]])?.first?["field"] as? String) == "items[1].prompt")
            #expect(((results?[2]["errors"] as? [[String: Any]])?.first?["field"] as? String) == "items[2].options.scenes")
            #expect(results?[3]["type"] as? String == "urn:atelier:problem:content-blocked")
            #expect(results?[3]["category"] as? String == "sexual/minors")
            #expect((results?[4]["creative_direction"] as? [String: Any])?["kind"] as? String == "image")

            let many = "{\"items\": [" + Array(repeating: #"{"prompt": "a fox"}"#, count: 17).joined(separator: ",") + "]}"
            let tooMany = try await alice.send(.POST, "/v1/parse/batch", body: Data(many.utf8))
            #expect(tooMany.status == 422)
            #expect(tooMany.problem?.errors?.first?.field == "items")
        }
    }

    @Test("a blocked prompt is a 422 naming the category, for jobs and for plans, and nothing is queued")
    func contentSafety() async throws {
        let policy = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).json")
        try Data(#"{"categories": [{"name": "violence/graphic", "terms": ["gore", "severed head"]}]}"#.utf8).write(to: policy)
        defer { try? FileManager.default.removeItem(at: policy) }
        try await withServer(configure: { $0.environment["ATELIER_CONTENT_POLICY"] = policy.path }) { server in
            let (alice, _) = try await server.creator()
            let job = try await alice.send(.POST, "/v1/jobs", json: CreateJobBody(kind: .image, prompt: "a knight with a SEVERED head"))
            #expect(job.status == 422)
            #expect(job.problem?.slug == "content-blocked")
            #expect(job.problem?.category == "violence/graphic")
            #expect(job.problem?.detail.contains("violence/graphic") == true)
            #expect(try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.isEmpty)

            let plan = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: "gore everywhere"))
            #expect(plan.status == 422)
            #expect(plan.problem?.category == "violence/graphic")
            // The replaced policy no longer holds the default terms; ordinary prompts pass.
            #expect(try await alice.send(.POST, "/v1/jobs", json: CreateJobBody(kind: .image, prompt: "a gorge at dawn")).status == 202)
        }
    }

    @Test("providers are listed in order with their health; a provider that cannot be reached falls back to the built-in planner")
    func providers() async throws {
        try await withServer(configure: {
            $0.environment["ATELIER_PLANNERS"] = "openai,builtin"
            $0.environment["ATELIER_OPENAI_BASE_URL"] = "http://127.0.0.1:1/v1"
            $0.environment["ATELIER_PLANNER_TIMEOUT_MS"] = "1500"
        }) { server in
            let (alice, _) = try await server.creator()
            let before = try await alice.send(.GET, "/v1/providers").decode(ListBody<ProviderResource>.self).data
            #expect(before.map(\.name) == ["openai", "builtin"])
            #expect(before.map(\.order) == [1, 2])
            #expect(before[0].endpoint == "http://127.0.0.1:1/v1")
            #expect(before[0].model == "gpt-4o-mini")
            #expect(before[0].timeoutMs == 1500)
            #expect(before.allSatisfy { $0.health.status == "unknown" })

            let plan = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a boat on a lake")).decode(PlanResult.self)
            #expect(plan.provider == "builtin")
            #expect(plan.warnings.first?.code == "provider_failed")
            #expect(plan.warnings.first?.message.hasPrefix("openai:") == true)

            let after = try await alice.send(.GET, "/v1/providers").decode(ListBody<ProviderResource>.self).data
            #expect(after[0].health.status == "failing")
            #expect(after[0].health.failures == 1)
            #expect(after[0].health.lastError != nil)
            #expect(after[1].health.status == "ok")
            #expect(after[1].health.successes == 1)
        }
    }

    @Test("inputs that are not uploads of the caller are a 422 per input")
    func unknownInputs() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let response = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a fox", inputs: ["upl_1", "upl_2"]))
            #expect(response.status == 422)
            #expect(response.problem?.errors?.map(\.field) == ["inputs[0]", "inputs[1]"])
        }
    }

    @Test("a server configured with an unknown planner refuses to start and says which")
    func badConfiguration() async throws {
        do {
            let server = try await TestServer.start { $0.environment["ATELIER_PLANNERS"] = "builtin,gpt" }
            await server.stop()
            Issue.record("the server started with an unknown planner")
        } catch let error as PlanningConfigurationError {
            #expect(error.description.contains("gpt"))
        }
    }
}
