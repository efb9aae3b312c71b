import AtelierCore
import AtelierMedia
import AtelierPlanning
import AtelierStore
import AtelierWire
import AtelierWorker
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Submitting, reading, listing and cancelling jobs.
extension RouteTable {
    func addJobRoutes(_ services: APIServices) {
        add(.post, "/v1/jobs") { request, _ in
            guard case .creator(let creatorID) = try await services.auth.require(request, .creator) else {
                throw APIProblem.forbidden("only creators submit jobs")
            }
            let body = try await services.json.decode(CreateJobBody.self, from: request)
            let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
            var newJob = try Self.newJob(body, creator: creatorID, idempotencyKey: idempotencyKey, services: services)
            try await Self.screen(newJob.prompt, services: services)
            let outcome: EnqueueOutcome
            do {
                if newJob.params.format.isFilm {
                    // A film and its scene jobs are queued together, in one transaction.
                    let family = Self.family(of: newJob, services: services)
                    newJob.cost = family[0].cost
                    outcome = try await services.store.enqueue(family, now: services.clock.now)[0]
                } else {
                    outcome = try await services.submissions.enqueue(newJob)
                }
            } catch let error as StoreError where error.code == .idempotencyConflict {
                throw APIProblem(.unprocessableContent, slug: "idempotency-key-reused",
                                 title: "The idempotency key was used for a different request",
                                 detail: "Idempotency-Key \(idempotencyKey ?? "") was first used with another body; use a new key for a new request",
                                 jobID: error.jobID?.rawValue)
            } catch let error as StoreError where error.code == .insufficientCredits {
                throw APIProblem.insufficientCredits(available: error.credits?.available ?? 0, cost: newJob.cost)
            } catch let error as StoreError where error.code == .quotaExceeded {
                throw APIProblem.quotaExceeded(error.quota, now: services.clock.now)
            }
            let resource = try await services.resource(for: outcome.job, request: request)
            var headers: HTTPFields = [.location: "/v1/jobs/\(outcome.job.id.rawValue)"]
            if case .existing = outcome { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
            return try services.json.response(resource, status: .accepted, headers: headers)
        }

        add(.post, "/v1/jobs/estimate") { request, _ in
            guard case .creator(let creatorID) = try await services.auth.require(request, .creator) else {
                throw APIProblem.forbidden("only creators submit jobs")
            }
            // The same checks and prices as POST /v1/jobs, and nothing queued or held.
            let body = try await services.json.decode(CreateJobBody.self, from: request)
            let newJob = try Self.newJob(body, creator: creatorID, idempotencyKey: nil, services: services)
            var cost = newJob.cost
            var scenes: Int?
            if newJob.params.format.isFilm {
                let family = Self.family(of: newJob, services: services)
                cost = family[0].cost
                scenes = family.count - 1
            }
            guard let creator = try await services.store.creator(id: creatorID) else { throw APIProblem.notFound("the creator") }
            return try services.json.response(EstimateResource(
                cost: cost, available: creator.account.available, scenes: scenes,
                width: newJob.params.width, height: newJob.params.height, frames: newJob.params.frames))
        }

        add(.get, "/v1/jobs") { request, _ in
            let principal = try await services.auth.require(request, .creator, .admin)
            let query = try Self.jobQuery(request, scope: APIServices.scope(of: principal))
            let page = try await services.store.jobs(query)
            var data: [JobResource] = []
            data.reserveCapacity(page.jobs.count)
            for job in page.jobs { data.append(try await services.resource(for: job, request: request)) }
            return try services.json.response(ListBody(data: data, nextCursor: page.nextCursor?.rawValue))
        }

        add(.get, "/v1/jobs/{id}") { request, context in
            let principal = try await services.auth.require(request, .creator, .admin)
            let id = try Self.jobID(context)
            let body = try await services.jobDocument(id: id, scope: APIServices.scope(of: principal), request: request)
            return services.json.response(encoded: body)
        }

        add(.post, "/v1/jobs/{id}/cancel") { request, context in
            let principal = try await services.auth.require(request, .creator, .admin)
            let id = try Self.jobID(context)
            switch try await services.store.cancel(id: id, scope: APIServices.scope(of: principal), now: services.clock.now) {
            case .canceled(let job), .cancelRequested(let job):
                return try services.json.response(try await services.resource(for: job, request: request))
            case .alreadyFinished(let job):
                throw APIProblem.conflict(slug: "job-finished", title: "The job has already finished",
                                          detail: "job \(job.id) is \(job.status.rawValue); only queued or running jobs can be cancelled",
                                          jobID: job.id.rawValue)
            case .notFound:
                throw APIProblem.notFound("the job")
            }
        }

        add(.get, "/v1/jobs/{id}/events") { request, context in
            let principal = try await services.auth.require(request, .creator, .admin)
            let job = try await Self.job(context, services: services, scope: APIServices.scope(of: principal))
            return JobEventStream(services: services, jobID: job.id, scope: APIServices.scope(of: principal)).response()
        }
    }

    /// Refuses a prompt the content policy (or the moderation endpoint) blocks, before anything is queued.
    /// The job a creation body asks for, checked and priced (422 when a field is wrong; 503
    /// when it needs the video pool and this server has none).
    static func newJob(_ body: CreateJobBody, creator: CreatorID, idempotencyKey: String?,
                       services: APIServices) throws -> NewJob {
        var newJob: NewJob
        do {
            if let model = body.model, services.catalog.model(model) == nil {
                throw ValidationError(field: "model", message: "is not a known model; GET /v1/models lists them")
            }
            newJob = try body.request(idempotencyKey: idempotencyKey).validated(
                id: services.ids.jobID(), creator: creator,
                costModel: services.pricing.costModel(for: ModelID(rawValue: body.model ?? "builtin") ?? .builtin),
                requestFingerprint: idempotencyKey.map { _ in Self.fingerprint(body) }
            )
            if let plan = body.plan { newJob.params = try Self.withSuppliedPlan(plan, newJob) }
        } catch let error as ValidationError {
            throw APIProblem.validation(error)
        }
        if services.videoPoolDisabled && newJob.params.format.isAnimated {
            throw APIProblem(.serviceUnavailable, slug: "video-pool-disabled", title: "This server cannot make videos",
                             detail: "ffmpeg was not found, so the video pool is disabled and \(newJob.params.format.rawValue) "
                                + "output cannot be made; the operator can \(FFmpeg.missingAdvice). PNG images still work")
        }
        return newJob
    }

    /// A film and its scene jobs, the film first; it costs what its scenes cost.
    static func family(of film: NewJob, services: APIServices) -> [NewJob] {
        SceneJobs.split(film, costModel: services.pricing.costModel(for: film.model)) { services.ids.jobID() }
    }

    static func screen(_ prompt: String, services: APIServices) async throws {
        let verdict: ContentScreen.Verdict?
        do {
            verdict = try await services.planning.screen.check(prompt)
        } catch {
            throw APIProblem.moderationUnavailable("\(error)", nothing: "queued")
        }
        if let verdict { throw APIProblem.contentBlocked(verdict, field: "prompt") }
    }

    static func job(_ context: Context, services: APIServices, scope: AccessScope) async throws -> Job {
        guard let job = try await services.store.job(id: try jobID(context), scope: scope) else {
            throw APIProblem.notFound("the job")
        }
        return job
    }

    /// The job named by the path's `{id}`; a malformed id is a job that does not exist (404).
    static func jobID(_ context: Context) throws -> JobID {
        guard let id = context.parameters.get("id").flatMap(JobID.init(rawValue:)) else { throw APIProblem.notFound("the job") }
        return id
    }

    static func jobQuery(_ request: Request, scope: AccessScope) throws -> JobQuery {
        let parameters = request.uri.queryParameters
        var query = JobQuery(scope: scope, limit: 20)
        if let status = parameters["status"] {
            guard let parsed = JobStatus(rawValue: String(status)) else {
                throw APIProblem.validation([FieldError(field: "status", message: "must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")])
            }
            query.status = parsed
        }
        if let limit = parameters["limit"] {
            guard let parsed = Int(limit), (1...100).contains(parsed) else {
                throw APIProblem.validation([FieldError(field: "limit", message: "must be an integer from 1 to 100")])
            }
            query.limit = parsed
        }
        if let cursor = parameters["cursor"] {
            guard let parsed = JobID(rawValue: String(cursor)) else {
                throw APIProblem.validation([FieldError(field: "cursor", message: "must be a next_cursor value from a previous page")])
            }
            query.cursor = parsed
        }
        return query
    }

    /// The identity of a submission for idempotency: the decoded body, re-encoded canonically,
    /// so spacing and key order do not make two equal requests differ.
    /// A film's parameters with the plan its creator supplied, checked and repaired by the same
    /// validator as every planner's answer: the scene count is the plan's (unless `scenes` was
    /// given), the durations are spread over the film's length.
    static func withSuppliedPlan(_ plan: JSONValue, _ job: NewJob) throws(ValidationError) -> JobParams {
        var params = job.params
        guard params.format.isFilm else {
            throw ValidationError(field: "plan", message: "is for films (format mp4 or webm)")
        }
        var sceneCount: Int?
        if case .array(let scenes)? = plan["scenes"] ?? plan["plan"]?["scenes"] { sceneCount = scenes.count }
        if params.scenes > 0 { sceneCount = params.scenes }
        let spec = PlanSpec(kind: .video, prompt: job.prompt, negativePrompt: job.negativePrompt,
                            scenes: sceneCount.map { min(max($0, 1), JobParams.sceneRange.upperBound) },
                            durationS: params.durationS, transition: params.transition, fps: params.fps)
        let checked: PlanValidator.Checked
        do {
            checked = try PlanValidator.check(.json(plan), brief: PlanningBrief(spec: spec))
        } catch {
            throw ValidationError(field: "plan", message: "is not a usable plan: \(error.message)")
        }
        guard let value = try? JSONValue(encoding: checked.plan) else {
            throw ValidationError(field: "plan", message: "could not be stored")
        }
        params.plan = value
        params.scenes = checked.plan.scenes.count
        return params
    }

    static func fingerprint(_ body: CreateJobBody) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data()
        return Hex.encode(SHA256.hash(data: data))
    }
}
