import AtelierCore
public import AtelierWire
public import Hummingbird
import Foundation
import NIOCore
import AtelierStore

/// A problem the API answers with: an RFC 9457 document and its HTTP status.
public struct APIProblem: Error, HTTPResponseError, Sendable {
    public var problem: Problem
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, slug: String, title: String, detail: String,
                errors: [FieldError]? = nil, jobID: String? = nil, category: String? = nil, headers: HTTPFields = [:]) {
        problem = Problem(type: Problem.typeURI(slug), title: title, status: status.code, detail: detail,
                          errors: errors, jobID: jobID, category: category)
        self.headers = headers
    }

    /// 402: the job costs more than the creator has available; nothing was queued.
    static func insufficientCredits(available: Int, cost: Int) -> APIProblem {
        var problem = APIProblem(
            HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), slug: "insufficient-credits", title: "Not enough credits",
            detail: "this job costs \(cost) credits and \(max(0, available)) are available (the rest is held by your "
                + "unfinished jobs or spent); wait for running jobs to end, or ask an operator for more credits")
        problem.problem.available = available
        problem.problem.cost = cost
        return problem
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: problem.status) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/problem+json"
        let data = (try? JSONEncoder().encode(problem)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func unauthorized(_ detail: String) -> APIProblem {
        APIProblem(.unauthorized, slug: "unauthorized", title: "Authentication required", detail: detail,
                   headers: [.wwwAuthenticate: "Bearer"])
    }

    static func forbidden(_ detail: String) -> APIProblem {
        APIProblem(.forbidden, slug: "forbidden", title: "Not allowed", detail: detail)
    }

    static func notFound(_ what: String) -> APIProblem {
        APIProblem(.notFound, slug: "not-found", title: "Not found", detail: "\(what) does not exist or is not yours")
    }

    static func validation(_ errors: [FieldError]) -> APIProblem {
        let detail = errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
        return APIProblem(.unprocessableContent, slug: "validation-failed", title: "The request is not valid",
                          detail: detail, errors: errors)
    }

    static func validation(_ error: ValidationError) -> APIProblem {
        validation([FieldError(field: error.field, message: error.message)])
    }

    /// Runs domain validation, turning its error into a 422 problem.
    static func checking<T>(_ body: () throws(ValidationError) -> T) throws(APIProblem) -> T {
        do {
            return try body()
        } catch {
            throw .validation(error)
        }
    }

    /// A quota refused the submission: 402 for the daily credit quota (it frees at 00:00 UTC,
    /// said by `resets_at` and `Retry-After`), 429 for the others (they free as the creator's
    /// own jobs start or end).
    static func quotaExceeded(_ hit: QuotaHit?, now: Date) -> APIProblem {
        let name = hit?.name ?? "quota"
        let limit = hit?.limit ?? 0
        var detail: String
        var status = HTTPResponse.Status.tooManyRequests
        var headers: HTTPFields = [:]
        switch name {
        case Quotas.Name.maxDailyCredits:
            status = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
            detail = "your quota is \(limit) credits a day (spent and held by unfinished jobs), and this job would pass it"
        case Quotas.Name.maxQueuedJobs:
            detail = "your quota is \(limit) jobs waiting to start; submit again when some have started, or cancel some"
        default:
            detail = "your quota \(name) of \(limit) does not allow this job"
        }
        if let resetsAt = hit?.resetsAt {
            let seconds = max(1, Int(resetsAt.timeIntervalSince(now).rounded(.up)))
            headers[.retryAfter] = String(seconds)
            detail += "; it resets at \(WireCoding.formatTimestamp(resetsAt)) (in \(seconds) s)"
        }
        var problem = APIProblem(status, slug: "quota-exceeded", title: "Quota reached", detail: detail, headers: headers)
        problem.problem.quota = name
        problem.problem.limit = limit
        problem.problem.resetsAt = hit?.resetsAt.map(WireCoding.formatTimestamp)
        return problem
    }

    static func conflict(slug: String, title: String, detail: String, jobID: String? = nil) -> APIProblem {
        APIProblem(.conflict, slug: slug, title: title, detail: detail, jobID: jobID)
    }

    static let leaseLost = APIProblem(
        .conflict, slug: "lease-lost", title: "The lease is no longer held",
        detail: "the lease expired or was handed to another worker; abandon this attempt"
    )
}
