import AtelierCore
import AtelierBlobs
import AtelierStore
import AtelierWire
import AtelierWorker
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// The worker protocol: remote `atelier worker` machines lease, renew, upload and report here,
/// with the same semantics as workers inside the server (the handlers use `LocalWorkSource`).
extension RouteTable {
    func addWorkerRoutes(_ services: APIServices) {
        add(.post, "/v1/worker/lease") { request, _ in
            let worker = try await Self.worker(request, services)
            let body = try await services.json.decode(LeaseCallBody.self, from: request)
            let work = try Self.workRequest(body)
            services.workers.saw(worker, pool: work.pool, at: services.clock.now)
            let wait = Duration.milliseconds(Int64(min(max(body.waitSeconds, 0), 30) * 1000))
            let leases = try await Self.source(services, worker).lease(work, wait: wait)
            return try services.json.response(Self.batch(leases, services))
        }

        add(.post, "/v1/worker/jobs/{id}/heartbeat") { request, context in
            let worker = try await Self.worker(request, services)
            let body = try await services.json.decode(HeartbeatCallBody.self, from: request)
            let (job, token) = try await Self.heldLease(context, worker: worker, fence: body.fence, services)
            services.workers.saw(worker, pool: job.pool, at: services.clock.now)
            let progress = body.progress.isFinite ? min(1, max(0, body.progress)) : 0
            switch try await Self.source(services, worker).heartbeat(token, progress: progress) {
            case .renewed(let until, let isCancelRequested):
                return try services.json.response(HeartbeatReplyBody(leaseExpiresAt: until, cancelRequested: isCancelRequested))
            case .leaseLost:
                throw APIProblem.leaseLost
            }
        }

        add(.put, "/v1/worker/jobs/{id}/artifacts/{name}") { request, context in
            let worker = try await Self.worker(request, services)
            guard let fence = request.uri.queryParameters["fence"].flatMap({ Int64(String($0)) }) else {
                throw APIProblem.validation([FieldError(field: "fence", message: "is required as a query parameter")])
            }
            let (job, token) = try await Self.heldLease(context, worker: worker, fence: fence, services)
            let name = context.parameters.get("name") ?? ""
            let key = try APIProblem.checking { () throws(ValidationError) in
                try BlobKey.attemptOutput(creator: job.creatorID, job: job.id, fence: token.fence, name: name)
            }
            // Validates the fence (and renews the lease) before accepting any bytes.
            guard case .renewed = try await services.store.heartbeat(
                token, progress: nil, leaseDuration: services.lease.duration, now: services.clock.now
            ) else { throw APIProblem.leaseLost }
            let body = try await request.body.collect(upTo: services.uploadLimit)
            let stored = try await services.blobs.put(Data(buffer: body), at: key)
            let contentType = request.headers[.contentType] ?? "application/octet-stream"
            return try services.json.response(
                UploadedArtifactBody(name: name, contentType: contentType, bytes: stored.byteCount, sha256: stored.sha256),
                status: .created
            )
        }

        // A film's compose step fetches its scene jobs' clips, under its own lease.
        add(.get, "/v1/worker/jobs/{id}/scenes") { request, context in
            let (_, clips) = try await Self.sceneClips(request, context, services)
            return try services.json.response(SceneClipsBody(data: clips.map { scene, clip in
                SceneClipBody(scene: scene, jobID: clip.jobID.rawValue, bytes: clip.byteCount, sha256: clip.sha256)
            }))
        }

        add(.get, "/v1/worker/jobs/{id}/scenes/{scene}") { request, context in
            let (_, clips) = try await Self.sceneClips(request, context, services)
            let wanted = context.parameters.get("scene").flatMap { Int($0) }
            guard let clip = clips.first(where: { $0.scene == wanted })?.clip,
                  let key = BlobKey(rawValue: clip.storageKey) else {
                throw APIProblem.notFound("the scene clip")
            }
            let data = try await services.blobs.get(key)
            return Response(status: .ok, headers: [.contentType: clip.contentType, .eTag: "\"\(clip.sha256)\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }

        add(.post, "/v1/worker/jobs/{id}/complete") { request, context in
            let worker = try await Self.worker(request, services)
            let body = try await services.json.decode(CompleteCallBody.self, from: request)
            let (job, token) = try await Self.heldLease(context, worker: worker, fence: body.fence, services)
            var artifacts: [Artifact] = []
            var keys: [BlobKey] = []
            for (index, uploaded) in body.artifacts.enumerated() {
                let field = "artifacts[\(index)]"
                guard let key = try? BlobKey.attemptOutput(creator: job.creatorID, job: job.id, fence: token.fence,
                                                           name: uploaded.name) else {
                    throw APIProblem.validation([FieldError(field: "\(field).name", message: "must be 1 to 128 letters, digits, '.', '-' or '_'")])
                }
                guard Self.isMediaType(uploaded.contentType) else {
                    throw APIProblem.validation([FieldError(field: "\(field).content_type", message: "must be a media type such as image/png")])
                }
                // The server trusts only what it stored: size and digest are checked against the bytes.
                guard let data = try? await services.blobs.get(key) else {
                    throw APIProblem.validation([FieldError(field: "\(field).name", message: "was not uploaded for this lease")])
                }
                let digest = SHA256Hex.digest(data)
                guard data.count == uploaded.bytes, digest == uploaded.sha256.lowercased() else {
                    throw APIProblem.validation([FieldError(field: field, message: "does not match the uploaded bytes")])
                }
                keys.append(key)
                artifacts.append(Artifact(
                    id: services.ids.artifactID(), jobID: job.id, name: uploaded.name, contentType: uploaded.contentType,
                    byteCount: data.count, sha256: digest, storageKey: key.rawValue, createdAt: services.clock.now
                ))
            }
            var next = LeaseRequest(pool: job.pool, worker: worker, models: [], limit: 0, leaseDuration: services.lease.duration)
            if let call = body.next {
                let work = try Self.workRequest(call)
                next = LeaseRequest(pool: work.pool, worker: worker, models: work.models, limit: work.limit,
                                    leaseDuration: services.lease.duration)
            }
            let (outcomes, leases) = try await services.store.complete(
                [Completion(token: token, artifacts: artifacts)], thenLease: next, now: services.clock.now
            )
            guard outcomes.first == .completed else {
                for key in keys { try? await services.blobs.delete(key) }
                throw APIProblem.leaseLost
            }
            return try services.json.response(Self.batch(leases, services))
        }

        add(.post, "/v1/worker/jobs/{id}/fail") { request, context in
            let worker = try await Self.worker(request, services)
            let body = try await services.json.decode(FailCallBody.self, from: request)
            let (job, token) = try await Self.heldLease(context, worker: worker, fence: body.fence, services)
            let error = JobError(code: String(body.error.code.prefix(64)), message: String(body.error.message.prefix(2000)))
            let outcome = try await Self.source(services, worker).fail(Lease(job: job, token: token), error: error,
                                                                      isRetryable: body.retryable)
            switch outcome {
            case .retrying(let at): return try services.json.response(FailReplyBody(outcome: "retrying", retryAt: at))
            case .failed: return try services.json.response(FailReplyBody(outcome: "failed", retryAt: nil))
            case .canceled: return try services.json.response(FailReplyBody(outcome: "canceled", retryAt: nil))
            case .leaseLost: throw APIProblem.leaseLost
            }
        }

        add(.post, "/v1/worker/jobs/{id}/release") { request, context in
            let worker = try await Self.worker(request, services)
            let body = try await services.json.decode(ReleaseCallBody.self, from: request)
            let (_, token) = try await Self.heldLease(context, worker: worker, fence: body.fence, services)
            guard try await Self.source(services, worker).release(token) else { throw APIProblem.leaseLost }
            return Response(status: .noContent)
        }
    }

    /// `type/subtype` in token characters: it is served back as a Content-Type header.
    static func isMediaType(_ value: String) -> Bool {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let token = { (part: Substring) in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "!#$&^_.+-".utf8.contains(byte)
            }
        }
        return value.utf8.count <= 127 && parts.count == 2 && token(parts[0]) && token(parts[1])
    }

    private static func worker(_ request: Request, _ services: APIServices) async throws -> WorkerID {
        guard case .worker(let id) = try await services.auth.require(request, .worker) else {
            throw APIProblem.forbidden("only worker keys may use the worker protocol")
        }
        return id
    }

    private static func source(_ services: APIServices, _ worker: WorkerID) -> LocalWorkSource {
        LocalWorkSource(store: services.store, blobs: services.blobs, worker: worker, lease: services.lease,
                        retry: services.retry, clock: services.clock)
    }

    private static func workRequest(_ body: LeaseCallBody) throws -> WorkRequest {
        guard let pool = PoolName(rawValue: body.pool) else {
            throw APIProblem.validation([FieldError(field: "pool", message: "must be 1 to 64 letters, digits, '-' or '_'")])
        }
        var models: Set<ModelID> = []
        for (index, model) in body.models.enumerated() {
            guard let id = ModelID(rawValue: model) else {
                throw APIProblem.validation([FieldError(field: "models[\(index)]", message: "must be a model id")])
            }
            models.insert(id)
        }
        guard !models.isEmpty else {
            throw APIProblem.validation([FieldError(field: "models", message: "must name at least one model")])
        }
        guard (0...16).contains(body.limit) else {
            throw APIProblem.validation([FieldError(field: "limit", message: "must be from 0 to 16")])
        }
        return WorkRequest(pool: pool, models: models, limit: body.limit)
    }

    /// The job and token of a lease the calling worker holds; 409 `lease-lost` otherwise.
    private static func heldLease(_ context: Context, worker: WorkerID, fence: Int64,
                                  _ services: APIServices) async throws -> (Job, LeaseToken) {
        let id = try jobID(context)
        guard let job = try await services.store.job(id: id, scope: .operator) else { throw APIProblem.notFound("the job") }
        // Fences are small numbers; the holder check keeps one worker from reporting another's
        // lease. The store checks the fence itself in the same transaction as each change.
        guard job.status == .running, job.leaseHolder == worker else { throw APIProblem.leaseLost }
        return (job, LeaseToken(jobID: id, fence: fence))
    }

    /// The held film's scene clips, after checking (and renewing) the caller's lease with the
    /// `fence` query parameter.
    private static func sceneClips(_ request: Request, _ context: Context, _ services: APIServices) async throws
        -> (Job, [(scene: Int, clip: Artifact)]) {
        let worker = try await Self.worker(request, services)
        guard let fence = request.uri.queryParameters["fence"].flatMap({ Int64(String($0)) }) else {
            throw APIProblem.validation([FieldError(field: "fence", message: "is required as a query parameter")])
        }
        let (job, token) = try await Self.heldLease(context, worker: worker, fence: fence, services)
        guard case .renewed = try await services.store.heartbeat(
            token, progress: nil, leaseDuration: services.lease.duration, now: services.clock.now
        ) else { throw APIProblem.leaseLost }
        do {
            return (job, try await SceneClips.artifacts(of: job, store: services.store))
        } catch let error as BackendError {
            throw APIProblem(.conflict, slug: "scenes-not-ready", title: "The film's scenes are not all ready",
                             detail: error.message)
        }
    }

    private static func batch(_ leases: [Lease], _ services: APIServices) -> LeaseBatchBody {
        LeaseBatchBody(leases: leases.map { LeaseBody(fence: $0.token.fence, job: WorkerJobBody($0.job)) },
                       leaseDurationSeconds: services.lease.duration)
    }
}
