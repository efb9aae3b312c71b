public import Foundation

/// How planning is set up, read from the environment:
///
/// | Variable | Meaning | Default |
/// |---|---|---|
/// | `ATELIER_PLANNERS` | providers in the order tried, from `builtin`, `openai`, `anthropic` | `builtin` |
/// | `ATELIER_PLANNER_TIMEOUT_MS` | each provider's time to answer | 8000 |
/// | `ATELIER_OPENAI_BASE_URL`, `_MODEL`, `_API_KEY` (or `OPENAI_API_KEY`) | chat-completions provider | api.openai.com/v1, gpt-4o-mini |
/// | `ATELIER_ANTHROPIC_BASE_URL`, `_MODEL`, `_API_KEY` (or `ANTHROPIC_API_KEY`) | Messages provider | api.anthropic.com, claude-sonnet-4-5 |
/// | `ATELIER_PLAN_CACHE_SIZE`, `ATELIER_PLAN_CACHE_TTL_S` | the plan cache | 1000, 3600 |
/// | `ATELIER_CONTENT_POLICY` | a policy file replacing the default term lists | built-in |
/// | `ATELIER_MODERATION_URL`, `_API_KEY`, `_MODEL` | an OpenAI-compatible moderation endpoint | none |
public struct PlanningConfiguration: Sendable {
    public var links: [PlannerChain.Link]
    public var cacheSize: Int
    public var cacheTimeToLive: TimeInterval
    public var policy: ContentPolicy
    public var moderation: ModerationClient?

    public init(environment: [String: String]) throws(PlanningConfigurationError) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func integer(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(PlanningConfigurationError) -> Int {
            guard let text = value(name) else { return fallback }
            guard let parsed = Int(text), range.contains(parsed) else {
                throw PlanningConfigurationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return parsed
        }
        let timeout = Duration.milliseconds(try integer("ATELIER_PLANNER_TIMEOUT_MS", 8000, 100...300_000))
        var links: [PlannerChain.Link] = []
        let names = (value("ATELIER_PLANNERS") ?? "builtin").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !name.isEmpty {
            guard !links.contains(where: { $0.planner.name == name }) else {
                throw PlanningConfigurationError("ATELIER_PLANNERS names \(name) twice")
            }
            switch name {
            case "builtin":
                links.append(.init(planner: BuiltinPlanner(), timeout: timeout))
            case "openai":
                let base = value("ATELIER_OPENAI_BASE_URL") ?? "https://api.openai.com/v1"
                let model = value("ATELIER_OPENAI_MODEL") ?? "gpt-4o-mini"
                try Self.checkURL(base, "ATELIER_OPENAI_BASE_URL")
                let planner = ChatCompletionsPlanner(baseURL: base, model: model,
                                                     apiKey: value("ATELIER_OPENAI_API_KEY") ?? value("OPENAI_API_KEY"), timeout: timeout)
                links.append(.init(planner: planner, timeout: timeout, endpoint: planner.baseURL, model: model))
            case "anthropic":
                let base = value("ATELIER_ANTHROPIC_BASE_URL") ?? "https://api.anthropic.com"
                let model = value("ATELIER_ANTHROPIC_MODEL") ?? "claude-sonnet-4-5"
                try Self.checkURL(base, "ATELIER_ANTHROPIC_BASE_URL")
                let planner = AnthropicPlanner(baseURL: base, model: model,
                                               apiKey: value("ATELIER_ANTHROPIC_API_KEY") ?? value("ANTHROPIC_API_KEY"), timeout: timeout)
                links.append(.init(planner: planner, timeout: timeout, endpoint: planner.baseURL, model: model))
            default:
                throw PlanningConfigurationError("ATELIER_PLANNERS: unknown planner \(name); use builtin, openai or anthropic")
            }
        }
        guard !links.isEmpty else { throw PlanningConfigurationError("ATELIER_PLANNERS names no planner; use builtin, openai or anthropic") }
        self.links = links
        cacheSize = try integer("ATELIER_PLAN_CACHE_SIZE", 1000, 0...1_000_000)
        cacheTimeToLive = TimeInterval(try integer("ATELIER_PLAN_CACHE_TTL_S", 3600, 1...31_536_000))
        if let path = value("ATELIER_CONTENT_POLICY") {
            do {
                policy = try ContentPolicy.load(contentsOf: URL(fileURLWithPath: path))
            } catch let error as PlanningConfigurationError {
                throw error
            } catch {
                throw PlanningConfigurationError("ATELIER_CONTENT_POLICY: \(path) could not be read: \(error.localizedDescription)")
            }
        } else {
            policy = .defaults
        }
        if let url = value("ATELIER_MODERATION_URL") {
            try Self.checkURL(url, "ATELIER_MODERATION_URL")
            moderation = ModerationClient(url: url, apiKey: value("ATELIER_MODERATION_API_KEY"),
                                          model: value("ATELIER_MODERATION_MODEL"), timeout: timeout)
        }
    }

    private static func checkURL(_ text: String, _ name: String) throws(PlanningConfigurationError) {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw PlanningConfigurationError("\(name) must be an http(s) URL, not \(text)")
        }
    }
}
