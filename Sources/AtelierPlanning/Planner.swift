public import AtelierCore

/// A source of plans: the built-in planner or a language model behind an HTTP API.
public protocol Planner: Sendable {
    /// How the provider is named in configuration, in `GET /v1/providers` and in `provider`.
    var name: String { get }
    /// `builtin`, `openai` (chat completions) or `anthropic` (messages).
    var kind: String { get }
    /// The provider's draft; the validator repairs or rejects it.
    func draft(_ brief: PlanningBrief) async throws -> PlanDraft
}

/// What a planner is asked: the validated request and the built-in plan for it, which models
/// may refine and which fills whatever their answer leaves out.
public struct PlanningBrief: Sendable {
    public var spec: PlanSpec
    public var previous: Plan?
    public var edit: String?
    public var baseline: Plan

    public init(spec: PlanSpec, previous: Plan? = nil, edit: String? = nil) {
        self.spec = spec
        self.previous = previous
        self.edit = edit
        baseline = BuiltinPlanner.baseline(for: spec, previous: previous, edit: edit)
    }
}

/// A planner's answer before validation.
public enum PlanDraft: Sendable {
    /// A typed plan (the built-in planner).
    case plan(Plan)
    /// A JSON document that should be a plan (a model's answer).
    case json(JSONValue)
}

/// Why a provider gave no usable plan; the chain then tries the next one.
public struct PlannerFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable {
        case timeout, transport, http, malformed, rejected
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}
