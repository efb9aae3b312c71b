import Foundation

/// A planner behind Anthropic's Messages API (`POST {base}/v1/messages`, `x-api-key`,
/// `anthropic-version: 2023-06-01`); the plan is read from the answer's text blocks.
public struct AnthropicPlanner: Planner {
    public let name: String
    public var kind: String { "anthropic" }
    /// E.g. `https://api.anthropic.com`.
    public let baseURL: String
    public let model: String
    public let apiKey: String?
    public let timeout: Duration
    public static let apiVersion = "2023-06-01"

    public init(name: String = "anthropic", baseURL: String, model: String, apiKey: String?, timeout: Duration) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
    }

    struct Body: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        var model: String
        var maxTokens = 2048
        var system: String
        var messages: [Message]

        enum CodingKeys: String, CodingKey {
            case model, system, messages
            case maxTokens = "max_tokens"
        }
    }

    struct Answer: Decodable {
        struct Block: Decodable {
            var type: String
            var text: String?
        }
        var type: String
        var content: [Block]
    }

    struct ErrorAnswer: Decodable {
        struct Detail: Decodable {
            var type: String
            var message: String
        }
        var error: Detail
    }

    public func draft(_ brief: PlanningBrief) async throws -> PlanDraft {
        let body = Body(model: model, system: ModelPlannerPrompt.system,
                        messages: [.init(role: "user", content: ModelPlannerPrompt.user(brief))])
        var headers = [("Content-Type", "application/json"), ("anthropic-version", Self.apiVersion)]
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        let (status, data) = try await PlannerHTTP.post(url: baseURL + "/v1/messages", headers: headers,
                                                        body: try JSONEncoder().encode(body), timeout: timeout)
        guard status == 200 else {
            let detail = (try? JSONDecoder().decode(ErrorAnswer.self, from: data)).map { "\($0.error.type): \($0.error.message)" }
            throw PlannerFailure(.http, "HTTP \(status): \(detail ?? String(decoding: data.prefix(200), as: UTF8.self))")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data), answer.type == "message" else {
            throw PlannerFailure(.malformed, "the answer is not a Messages API message")
        }
        let text = answer.content.filter { $0.type == "text" }.compactMap(\.text).joined()
        return .json(try ModelPlannerPrompt.object(in: text))
    }
}
