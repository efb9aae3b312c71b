import AtelierCore
import AtelierStore
import AtelierPlanning
import AtelierWire
import Foundation
import Hummingbird

/// Prompt planning: `/v1/parse`, its batch form, the providers and the plan cache.
extension RouteTable {
    func addPlanningRoutes(_ services: APIServices) {
        add(.post, "/v1/parse") { request, _ in
            let principal = try await services.auth.require(request, .creator, .admin)
            let body = try await services.json.decode(PlanRequest.self, from: request)
            return try services.json.response(try await Self.parse(body, services: services, scope: APIServices.scope(of: principal),
                                                                   field: ""))
        }

        add(.post, "/v1/parse/batch") { request, _ in
            let principal = try await services.auth.require(request, .creator, .admin)
            let scope = APIServices.scope(of: principal)
            var json = services.json
            json.bodyLimit = max(json.bodyLimit, Self.batchBodyLimit)
            let body = try await json.decode(ParseBatchBody.self, from: request)
            guard (1...Self.batchLimit).contains(body.items.count) else {
                throw APIProblem.validation([FieldError(field: "items", message: "must hold 1 to \(Self.batchLimit) parse requests")])
            }
            let results = await withTaskGroup(of: (Int, ParseBatchResult).self) { group in
                for (index, item) in body.items.enumerated() {
                    group.addTask {
                        switch item {
                        case .invalid(let problem):
                            return (index, .problem(problem))
                        case .request(let parseRequest):
                            do {
                                return (index, .plan(try await Self.parse(parseRequest, services: services, scope: scope, field: "items[\(index)].")))
                            } catch let problem as APIProblem {
                                return (index, .problem(problem.problem))
                            } catch {
                                return (index, .problem(APIProblem(.internalServerError, slug: "internal", title: "Internal error",
                                                                   detail: "this item could not be planned").problem))
                            }
                        }
                    }
                }
                var ordered = [ParseBatchResult?](repeating: nil, count: body.items.count)
                for await (index, result) in group { ordered[index] = result }
                return ordered.compactMap { $0 }
            }
            return try services.json.response(ParseBatchResponse(results: results))
        }

        add(.get, "/v1/providers") { request, _ in
            _ = try await services.auth.authenticate(request)
            let chain = services.planning.chain
            let providers = chain.links.enumerated().map { position, link in
                let health = chain.health(of: link.planner.name)
                return ProviderResource(
                    name: link.planner.name, kind: link.planner.kind, order: position + 1, endpoint: link.endpoint,
                    model: link.model, timeoutMs: Int((link.timeout / .milliseconds(1)).rounded()),
                    health: .init(status: health.status, successes: health.successes, failures: health.failures,
                                  lastError: health.lastError, lastSuccessAt: health.lastSuccessAt,
                                  lastFailureAt: health.lastFailureAt, lastLatencyMs: health.lastLatencyMilliseconds)
                )
            }
            return try services.json.response(ListBody(data: providers))
        }

        add(.post, "/v1/cache/clear") { request, _ in
            _ = try await services.auth.require(request, .admin)
            return try services.json.response(CacheClearedResource(cleared: services.planning.cache.clear()))
        }
    }

    /// Most requests one batch may hold.
    static var batchLimit: Int { 16 }
    static var batchBodyLimit: Int { 1024 * 1024 }

    /// One parse request, answered or turned into the problem that explains why not; `field`
    /// prefixes the names of fields in problems (`items[2].`).
    static func parse(_ body: PlanRequest, services: APIServices, scope: AccessScope, field: String) async throws -> PlanResult {
        // Inputs are the caller's own uploads; anyone else's are as absent as unknown ones.
        var references: [ReferenceInput] = []
        var missing: [FieldError] = []
        for (index, raw) in (body.inputs ?? []).enumerated() {
            if let id = UploadID(rawValue: raw), let upload = try await services.store.upload(id: id, scope: scope) {
                references.append(ReferenceInput(upload))
            } else {
                missing.append(FieldError(field: "\(field)inputs[\(index)]", message: "is not one of your uploads (POST /v1/uploads)"))
            }
        }
        if !missing.isEmpty { throw APIProblem.validation(missing) }
        do {
            return try await services.planning.parse(body, references: references, now: services.clock.now)
        } catch {
            throw problem(for: error, field: field)
        }
    }

    static func problem(for failure: PlanningService.Failure, field: String) -> APIProblem {
        switch failure {
        case .invalid(let error):
            return .validation([FieldError(field: field + error.field, message: error.message)])
        case .blocked(let verdict):
            return .contentBlocked(verdict, field: field + "prompt")
        case .moderationUnavailable(let reason):
            return .moderationUnavailable(reason, nothing: "planned")
        case .noPlanner(let exhausted):
            let reasons = exhausted.failures.map { "\($0.provider): \($0.failure.message)" }.joined(separator: "; ")
            return APIProblem(.serviceUnavailable, slug: "planner-unavailable", title: "No planner could plan this request",
                              detail: "every configured planner failed (\(reasons)); add builtin to ATELIER_PLANNERS as a fallback",
                              headers: [.retryAfter: "5"])
        }
    }
}

extension APIProblem {
    /// The moderation endpoint did not answer: the prompt is refused for now rather than let through.
    static func moderationUnavailable(_ reason: String, nothing what: String) -> APIProblem {
        APIProblem(.serviceUnavailable, slug: "moderation-unavailable", title: "The content check is unavailable",
                   detail: "the moderation endpoint did not answer (\(reason)); nothing was \(what) — try again shortly",
                   headers: [.retryAfter: "5"])
    }

    /// A prompt the content policy refuses: nothing is planned, queued or charged.
    static func contentBlocked(_ verdict: ContentScreen.Verdict, field: String) -> APIProblem {
        let by = verdict.source == "policy" ? "the content policy" : "the moderation endpoint"
        return APIProblem(.unprocessableContent, slug: "content-blocked", title: "The prompt is not allowed",
                          detail: "\(by) refuses prompts in the category \(verdict.category); nothing was queued or charged",
                          errors: [FieldError(field: field, message: "falls in the blocked category \(verdict.category)")],
                          category: verdict.category)
    }
}

/// `POST /v1/parse/batch`.
struct ParseBatchBody: Decodable {
    /// Each item decoded on its own, so one malformed item does not fail the batch.
    enum Item: Decodable {
        case request(PlanRequest)
        case invalid(Problem)

        init(from decoder: any Decoder) throws {
            do {
                self = .request(try PlanRequest(from: decoder))
            } catch let error as DecodingError {
                self = .invalid(JSONIO.problem(for: error).problem)
            }
        }
    }

    var items: [Item]
}

enum ParseBatchResult: Encodable {
    case plan(PlanResult)
    case problem(Problem)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .plan(let plan): try plan.encode(to: encoder)
        case .problem(let problem): try problem.encode(to: encoder)
        }
    }
}

struct ParseBatchResponse: Encodable {
    var results: [ParseBatchResult]
}
