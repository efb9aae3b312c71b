import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// An OpenAI-compatible moderation endpoint (`POST /v1/moderations` `{"input"}` →
/// `{"results": [{"flagged", "categories": {name: bool}}]}`), asked after the term lists.
public struct ModerationClient: Sendable {
    public var url: String
    public var apiKey: String?
    public var model: String?
    public var timeout: Duration

    public init(url: String, apiKey: String? = nil, model: String? = nil, timeout: Duration = .seconds(5)) {
        self.url = url
        self.apiKey = apiKey
        self.model = model
        self.timeout = timeout
    }

    struct Body: Encodable {
        var input: String
        var model: String?
    }

    struct Answer: Decodable {
        struct Result: Decodable {
            var flagged: Bool
            var categories: [String: Bool]?
        }

        var results: [Result]
    }

    /// The flagged category (the first one set, by name), nil when the text passes.
    /// Any failure to get an answer throws: the caller refuses rather than lets content through.
    public func flaggedCategory(_ text: String) async throws(PlannerFailure) -> String? {
        var headers = [("Content-Type", "application/json")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let body = (try? JSONEncoder().encode(Body(input: text, model: model))) ?? Data()
        let (status, data) = try await PlannerHTTP.post(url: url, headers: headers, body: body, timeout: timeout)
        guard status == 200 else { throw PlannerFailure(.http, "the moderation endpoint answered HTTP \(status)") }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data), let result = answer.results.first else {
            throw PlannerFailure(.malformed, "the moderation endpoint's answer is not a moderation result")
        }
        guard result.flagged else { return nil }
        return result.categories?.filter(\.value).keys.sorted().first ?? "flagged"
    }
}
