public import AtelierCore
import Crypto
public import Foundation

/// Planning as the API offers it: the content check, the cache, the provider chain, the
/// validator and the price, in that order.
public struct PlanningService: Sendable {
    /// Bumped when the built-in planner or the validator changes what they produce (part of the cache key).
    public static let plannerVersion = "atelier-planner-1"

    public let chain: PlannerChain
    public let cache: PlanCache<PlanResult>
    public let screen: ContentScreen
    public let estimator: PlanCostEstimator

    public init(chain: PlannerChain, cache: PlanCache<PlanResult>, screen: ContentScreen, estimator: PlanCostEstimator) {
        self.chain = chain
        self.cache = cache
        self.screen = screen
        self.estimator = estimator
    }

    public enum Failure: Error, Sendable {
        case invalid(ValidationError)
        case blocked(ContentScreen.Verdict)
        case moderationUnavailable(String)
        case noPlanner(PlannerChain.Exhausted)
    }

    /// Plans `request` (already checked to refer only to the caller's uploads).
    public func parse(_ request: PlanRequest, references: [ReferenceInput] = [], now: Date = Date()) async throws(Failure)
        -> PlanResult {
        let spec: PlanSpec
        do {
            spec = try request.resolved(references: references)
        } catch {
            throw .invalid(error)
        }
        for text in [spec.prompt, request.edit ?? ""] where !text.isEmpty {
            do {
                if let verdict = try await screen.check(text) { throw Failure.blocked(verdict) }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw .moderationUnavailable("\(error)")
            }
        }
        let key = cacheKey(request: request, spec: spec)
        if var cached = cache.value(for: key, now: now) {
            cached.cacheHit = true
            return cached
        }
        let brief = PlanningBrief(spec: spec, previous: request.plan, edit: request.edit)
        let outcome: (checked: PlanValidator.Checked, provider: String)
        do {
            outcome = try await chain.plan(brief)
        } catch {
            throw .noPlanner(error)
        }
        var warnings = outcome.checked.warnings
        if let edit = request.edit, let previous = request.plan, brief.baseline == previous, outcome.provider == "builtin" {
            warnings.append(PlanWarning(code: "edit_not_understood",
                                        message: "nothing in \"\(edit.prefix(80))\" named a change the built-in planner can make; the plan is unchanged"))
        }
        let result = PlanResult(
            plan: outcome.checked.plan, warnings: warnings, confidence: outcome.checked.confidence,
            provider: outcome.provider, cacheHit: false,
            costEstimate: estimator.estimate(outcome.checked.plan, fps: spec.fps), plannerVersion: Self.plannerVersion
        )
        cache.store(result, for: key, now: now)
        return result
    }

    /// The same request, provider chain and planner version give the same key; whitespace in
    /// the prompt and the order of JSON members do not matter.
    func cacheKey(request: PlanRequest, spec: PlanSpec) -> String {
        struct Key: Encodable {
            var spec: PlanSpec
            var inputs: [String]
            var previous: Plan?
            var edit: String?
            var chain: String
            var version: String
        }
        var normalised = spec
        normalised.prompt = spec.prompt.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let key = Key(spec: normalised, inputs: request.inputs ?? [], previous: request.plan,
                      edit: request.edit?.split(whereSeparator: \.isWhitespace).joined(separator: " "),
                      chain: chain.signature, version: Self.plannerVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(key)) ?? Data()
        return Hex.encode(SHA256.hash(data: data))
    }
}

/// The content check for prompts: the policy's term lists, then the moderation endpoint when one
/// is configured.
public struct ContentScreen: Sendable {
    public var policy: ContentPolicy
    public var moderation: ModerationClient?

    public init(policy: ContentPolicy, moderation: ModerationClient? = nil) {
        self.policy = policy
        self.moderation = moderation
    }

    public struct Verdict: Sendable, Hashable {
        public var category: String
        /// `policy` or `moderation`.
        public var source: String
    }

    /// The reason to refuse `text`, or nil. Throws when the moderation endpoint cannot answer.
    public func check(_ text: String) async throws(PlannerFailure) -> Verdict? {
        if let category = policy.category(matching: text) { return Verdict(category: category, source: "policy") }
        if let moderation, let category = try await moderation.flaggedCategory(text) {
            return Verdict(category: category, source: "moderation")
        }
        return nil
    }
}
