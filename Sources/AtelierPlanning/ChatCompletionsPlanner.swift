import Foundation

/// A planner behind an OpenAI-compatible chat-completions API (`POST {base}/chat/completions`):
/// OpenAI itself, or vLLM, llama.cpp's server and Ollama with their OpenAI endpoints.
public struct ChatCompletionsPlanner: Planner {
    public let name: String
    public var kind: String { "openai" }
    /// Up to and including the version, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    public let baseURL: String
    public let model: String
    public let apiKey: String?
    public let timeout: Duration

    public init(name: String = "openai", baseURL: String, model: String, apiKey: String?, timeout: Duration) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
    }

    struct Message: Codable {
        var role: String
        var content: String?
    }

    struct Body: Encodable {
        struct ResponseFormat: Encodable { var type = "json_object" }
        var model: String
        var messages: [Message]
        var temperature = 0.2
        var responseFormat = ResponseFormat()

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature
            case responseFormat = "response_format"
        }
    }

    struct Answer: Decodable {
        struct Choice: Decodable { var message: Message }
        var choices: [Choice]
    }

    struct ErrorAnswer: Decodable {
        struct Detail: Decodable { var message: String }
        var error: Detail
    }

    public func draft(_ brief: PlanningBrief) async throws -> PlanDraft {
        let body = Body(model: model, messages: [
            Message(role: "system", content: ModelPlannerPrompt.system),
            Message(role: "user", content: ModelPlannerPrompt.user(brief)),
        ])
        var headers = [("Content-Type", "application/json")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let (status, data) = try await PlannerHTTP.post(url: baseURL + "/chat/completions", headers: headers,
                                                        body: try JSONEncoder().encode(body), timeout: timeout)
        guard status == 200 else {
            let message = (try? JSONDecoder().decode(ErrorAnswer.self, from: data))?.error.message ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw PlannerFailure(.http, "HTTP \(status): \(message)")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data),
              let content = answer.choices.first?.message.content else {
            throw PlannerFailure(.malformed, "the answer is not a chat completion with a message")
        }
        return .json(try ModelPlannerPrompt.object(in: content))
    }
}
