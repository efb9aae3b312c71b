import AtelierCore
import AtelierPlanning
import Foundation
import Testing

/// Each provider against a fake of its HTTP API on loopback.
@Suite("Planning providers")
struct ProviderTests {
    /// A model's answer: a plan of three scenes in a ```json fence, as chat models often write.
    static let goodAnswer = """
    Here is the plan:
    ```json
    {"creative_direction": {"style": "film noir", "mood": "tense", "palette": ["#101820", "#F2AA4C"], "camera": "handheld",
      "pacing": "fast", "aspect": "16:9", "time_of_day": "night", "setting": "city", "subjects": ["detective"]},
     "scenes": [
      {"index": 1, "description": "Rain on a neon sign above an empty street", "duration_s": 4, "camera_motion": "tilt_down", "transition": "fadeblack", "time_of_day": "night", "shot": "wide"},
      {"index": 2, "description": "A detective lights a cigarette in a doorway", "duration_s": 4, "camera_motion": "zoom_in", "transition": "fadeblack", "time_of_day": "night", "shot": "medium"},
      {"index": 3, "description": "Footsteps echo down the alley", "duration_s": 4, "camera_motion": "static", "transition": "none", "time_of_day": "night", "shot": "close"}
     ]}
    ```
    """

    func service(_ links: [PlannerChain.Link], moderation: ModerationClient? = nil) -> PlanningService {
        PlanningService(chain: PlannerChain(links), cache: PlanCache(capacity: 100, timeToLive: 600),
                        screen: ContentScreen(policy: .defaults, moderation: moderation),
                        estimator: PlanCostEstimator(costModel: CostModel()))
    }

    func openAI(_ fake: FakeProviderServer, timeout: Duration = .seconds(5)) -> PlannerChain.Link {
        PlannerChain.Link(planner: ChatCompletionsPlanner(baseURL: fake.url + "/v1", model: "gpt-test", apiKey: "sk-test", timeout: timeout),
                          timeout: timeout)
    }

    func anthropic(_ fake: FakeProviderServer, timeout: Duration = .seconds(5)) -> PlannerChain.Link {
        PlannerChain.Link(planner: AnthropicPlanner(baseURL: fake.url, model: "claude-test", apiKey: "ant-test", timeout: timeout),
                          timeout: timeout)
    }

    let builtin = PlannerChain.Link(planner: BuiltinPlanner(), timeout: .seconds(5))
    let request = PlanRequest(prompt: "a detective in a rainy city at night", options: PlanOptions(scenes: 3, durationS: 12))

    @Test("an OpenAI-compatible provider is sent a chat completion and its plan is used")
    func openAIAnswers() async throws {
        let fake = try await FakeProviderServer.start(.answer(Self.goodAnswer))
        defer { Task { await fake.stop() } }
        let result = try await service([openAI(fake), builtin]).parse(request)
        #expect(result.provider == "openai")
        #expect(result.scenes.map(\.description).first == "Rain on a neon sign above an empty street")
        #expect(result.creativeDirection.style == "film noir")
        #expect(result.warnings.isEmpty)
        #expect(result.confidence.structure == 1)
        let sent = try #require(fake.received.first)
        #expect(sent.path == "/v1/chat/completions")
        #expect(sent.headers["authorization"] == "Bearer sk-test")
        #expect(sent.body["model"] as? String == "gpt-test")
        let messages = sent.body["messages"] as? [[String: Any]] ?? []
        #expect(messages.map { $0["role"] as? String } == ["system", "user"])
        #expect((messages.last?["content"] as? String)?.contains("a detective in a rainy city at night") == true)
        #expect((sent.body["response_format"] as? [String: Any])?["type"] as? String == "json_object")
    }

    @Test("an Anthropic provider is sent a Messages request and its text block is read")
    func anthropicAnswers() async throws {
        let fake = try await FakeProviderServer.start(.answer(Self.goodAnswer))
        defer { Task { await fake.stop() } }
        let result = try await service([anthropic(fake), builtin]).parse(request)
        #expect(result.provider == "anthropic")
        #expect(result.scenes[1].description == "A detective lights a cigarette in a doorway")
        let sent = try #require(fake.received.first)
        #expect(sent.path == "/v1/messages")
        #expect(sent.headers["x-api-key"] == "ant-test")
        #expect(sent.headers["anthropic-version"] == "2023-06-01")
        #expect(sent.body["model"] as? String == "claude-test")
        #expect((sent.body["max_tokens"] as? Int ?? 0) > 0)
        #expect((sent.body["system"] as? String)?.contains("JSON") == true)
        #expect((sent.body["messages"] as? [[String: Any]])?.first?["role"] as? String == "user")
    }

    @Test("a slow answer past the timeout, malformed JSON, an error status or a schema-violating plan pass to the next provider")
    func fallbacks() async throws {
        let fake = try await FakeProviderServer.start(.answer(Self.goodAnswer))
        defer { Task { await fake.stop() } }
        let cases: [(FakeProviderServer.Behaviour, String)] = [
            (.slow(.seconds(20), Self.goodAnswer), "timeout"),
            (.answer("Sorry, I can only answer in prose."), "malformed"),
            (.answer(#"{"creative_direction": {"style": "noir"}, "scenes": "three of them"}"#), "rejected"),
            (.answer(#"{"scenes": [{"duration_s": 4}, {"camera_motion": "static"}]}"#), "rejected"),
            (.error(status: 429, type: "rate_limit_error", message: "slow down"), "http"),
        ]
        for (behaviour, reason) in cases {
            fake.set(behaviour)
            // A fresh service each time, so the cache does not answer. Only the slow answer meets a
            // short timeout; the others get plenty, so a busy machine cannot turn them into timeouts.
            let planning = service([openAI(fake, timeout: reason == "timeout" ? .seconds(1) : .seconds(30)), builtin])
            let started = ContinuousClock.now
            let result = try await planning.parse(request)
            #expect(result.provider == "builtin", "\(reason)")
            #expect(result.warnings.first?.code == "provider_failed", "\(reason)")
            #expect(result.scenes.count == 3)
            let health = planning.chain.health(of: "openai")
            #expect(health.status == "failing")
            #expect(health.lastError?.hasPrefix(reason) == true, "\(reason): \(health.lastError ?? "")")
            // The chain did not wait for the 20-second answer.
            if reason == "timeout" { #expect(ContinuousClock.now - started < .seconds(15)) }
        }
    }

    @Test("the chain goes on to the second model when the first fails; every failing chain is a clear error")
    func chainOrder() async throws {
        let broken = try await FakeProviderServer.start(.error(status: 500, type: "server_error", message: "boom"))
        let good = try await FakeProviderServer.start(.answer(Self.goodAnswer))
        defer { Task { await broken.stop(); await good.stop() } }
        let planning = service([openAI(broken), anthropic(good), builtin])
        let result = try await planning.parse(request)
        #expect(result.provider == "anthropic")
        #expect(result.warnings.first?.message.contains("openai: HTTP 500: boom") == true)
        #expect(planning.chain.health(of: "anthropic").status == "ok")
        #expect(planning.chain.health(of: "builtin").status == "unknown")

        let onlyBroken = service([openAI(broken)])
        await #expect(throws: PlanningService.Failure.self) { try await onlyBroken.parse(request) }
    }

    @Test("a repeated request is answered from the cache without asking the provider again")
    func cacheHit() async throws {
        let fake = try await FakeProviderServer.start(.answer(Self.goodAnswer))
        defer { Task { await fake.stop() } }
        let planning = service([openAI(fake), builtin])
        let first = try await planning.parse(request)
        var spaced = request
        spaced.prompt = "  a detective in a   rainy city\tat night "
        let second = try await planning.parse(spaced)
        #expect(!first.cacheHit)
        #expect(second.cacheHit)
        #expect(second.scenes == first.scenes)
        #expect(fake.received.count == 1)
        var other = request
        other.options?.scenes = 2
        #expect(!(try await planning.parse(other)).cacheHit)
        #expect(fake.received.count == 2)
    }

    @Test("the moderation endpoint can block a prompt the term lists pass; when it is down nothing is planned")
    func moderation() async throws {
        let fake = try await FakeProviderServer.start(.answer(Self.goodAnswer))
        defer { Task { await fake.stop() } }
        let planning = service([builtin], moderation: ModerationClient(url: fake.url + "/v1/moderations", apiKey: "mod-key"))
        #expect(try await planning.parse(request).provider == "builtin")
        fake.flag("violence")
        do {
            _ = try await planning.parse(PlanRequest(prompt: "an ordinary-looking prompt"))
            Issue.record("a flagged prompt was planned")
        } catch .blocked(let verdict) {
            #expect(verdict.category == "violence")
            #expect(verdict.source == "moderation")
        }
        let sent = try #require(fake.received.last)
        #expect(sent.body["input"] as? String == "an ordinary-looking prompt")
        #expect(sent.headers["authorization"] == "Bearer mod-key")

        let down = service([builtin], moderation: ModerationClient(url: "http://127.0.0.1:1/v1/moderations", timeout: .seconds(2)))
        do {
            _ = try await down.parse(PlanRequest(prompt: "a fox"))
            Issue.record("planned without the moderation endpoint")
        } catch .moderationUnavailable {
        }
        // The term lists answer before the endpoint is asked.
        do {
            _ = try await down.parse(PlanRequest(prompt: "csam"))
            Issue.record("a blocked prompt was planned")
        } catch .blocked(let verdict) {
            #expect(verdict.source == "policy")
        }
    }
}
