public import AtelierCore
public import AtelierStore
public import AtelierWorker
import AtelierBlobs
import AtelierWire
public import Foundation
import Synchronization

/// The work source of `atelier worker`: the server's worker protocol over HTTP. Worker
/// machines hold a worker key, never database credentials.
public final class RemoteWorkSource: WorkSource {
    let transport: HTTPTransport
    /// Lease calls waiting on the server, so draining can end them at once.
    private let waiting = Mutex<[UUID: (pool: PoolName, task: Task<LeaseBatchBody, any Error>)]>([:])
    private let interrupted = Mutex<Set<PoolName>>([])
    /// The lease duration the server last announced.
    private let serverLeaseDuration = Mutex<TimeInterval?>(nil)

    public init(server: String, apiKey: String) {
        transport = HTTPTransport(baseURL: server, apiKey: apiKey)
    }

    public func lease(_ request: WorkRequest, wait: Duration) async throws -> [Lease] {
        if interrupted.withLock({ $0.contains(request.pool) }) { return [] }
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
        let call = LeaseCallBody(pool: request.pool.rawValue, models: request.models.map(\.rawValue).sorted(),
                                 limit: request.limit, waitSeconds: seconds)
        let transport = self.transport
        let task = Task {
            try await transport.call(.POST, "/v1/worker/lease", json: call, timeout: .seconds(Int64(seconds) + 30),
                                     as: LeaseBatchBody.self)
        }
        let id = UUID()
        waiting.withLock { $0[id] = (request.pool, task) }
        defer { _ = waiting.withLock { $0.removeValue(forKey: id) } }
        if interrupted.withLock({ $0.contains(request.pool) }) { task.cancel() }
        do {
            let batch = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
            return try leases(batch)
        } catch where task.isCancelled {
            // Interrupted for draining: a job the server may have leased meanwhile is reclaimed
            // when its lease expires, so nothing is lost.
            return []
        }
    }

    public func heartbeat(_ token: LeaseToken, progress: Double) async throws -> HeartbeatOutcome {
        do {
            let reply = try await transport.call(.POST, path(token, "heartbeat"),
                                                 json: HeartbeatCallBody(fence: token.fence, progress: progress),
                                                 as: HeartbeatReplyBody.self)
            return .renewed(until: reply.leaseExpiresAt, isCancelRequested: reply.cancelRequested)
        } catch let error as ClientError where error.problemSlug == "lease-lost" {
            return .leaseLost
        }
    }

    public func complete(_ lease: Lease, outputs: [BackendOutput], thenLease next: WorkRequest) async throws
        -> (outcome: CompletionOutcome, leases: [Lease]) {
        do {
            var uploaded: [UploadedArtifactBody] = []
            for output in outputs {
                let (_, data) = try await transport.send(
                    .PUT, path(lease.token, "artifacts/\(output.name)") + "?fence=\(lease.token.fence)",
                    body: output.data, contentType: output.contentType, timeout: .minutes(10)
                )
                uploaded.append(try WireCoding.decoder().decode(UploadedArtifactBody.self, from: data))
            }
            let call = CompleteCallBody(
                fence: lease.token.fence, artifacts: uploaded,
                next: next.limit > 0
                    ? LeaseCallBody(pool: next.pool.rawValue, models: next.models.map(\.rawValue).sorted(), limit: next.limit, waitSeconds: 0)
                    : nil
            )
            let batch = try await transport.call(.POST, path(lease.token, "complete"), json: call, as: LeaseBatchBody.self)
            return (.completed, try leases(batch))
        } catch let error as ClientError where error.problemSlug == "lease-lost" {
            return (.leaseLost, [])
        }
    }

    public func fail(_ lease: Lease, error: JobError, isRetryable: Bool) async throws -> FailureOutcome {
        do {
            let reply = try await transport.call(
                .POST, path(lease.token, "fail"),
                json: FailCallBody(fence: lease.token.fence, error: ErrorBody(code: error.code, message: error.message),
                                   retryable: isRetryable),
                as: FailReplyBody.self
            )
            switch reply.outcome {
            case "retrying": return .retrying(at: reply.retryAt ?? Date())
            case "canceled": return .canceled
            default: return .failed
            }
        } catch let error as ClientError where error.problemSlug == "lease-lost" {
            return .leaseLost
        }
    }

    public func release(_ token: LeaseToken) async throws -> Bool {
        do {
            let body = try WireCoding.encoder().encode(ReleaseCallBody(fence: token.fence))
            _ = try await transport.send(.POST, path(token, "release"), body: body)
            return true
        } catch let error as ClientError where error.problemSlug == "lease-lost" {
            return false
        }
    }

    public func sceneClips(of lease: Lease) async throws -> [Data] {
        let query = "?fence=\(lease.token.fence)"
        let list = try await transport.call(.GET, path(lease.token, "scenes") + query, as: SceneClipsBody.self)
        var clips: [Data] = []
        for clip in list.data {
            let (_, data) = try await transport.send(.GET, path(lease.token, "scenes/\(clip.scene)") + query,
                                                     timeout: .minutes(10))
            // What arrived must be what the scene job stored.
            guard data.count == clip.bytes, SHA256Hex.digest(data) == clip.sha256 else {
                throw ClientError.transport("scene \(clip.scene)'s clip arrived damaged (\(data.count) of \(clip.bytes) bytes)")
            }
            clips.append(data)
        }
        return clips
    }

    public func interruptWaits(pool: PoolName) {
        let tasks = waiting.withLock { entries in entries.values.filter { $0.pool == pool }.map(\.task) }
        interrupted.withLock { _ = $0.insert(pool) }
        for task in tasks { task.cancel() }
    }

    private func path(_ token: LeaseToken, _ action: String) -> String {
        "/v1/worker/jobs/\(token.jobID.rawValue)/\(action)"
    }

    public func heartbeatInterval(default interval: TimeInterval) -> TimeInterval {
        guard let duration = serverLeaseDuration.withLock({ $0 }) else { return interval }
        return min(interval, duration / 3)
    }

    private func leases(_ batch: LeaseBatchBody) throws -> [Lease] {
        if batch.leaseDurationSeconds > 0 { serverLeaseDuration.withLock { $0 = batch.leaseDurationSeconds } }
        return try Self.leases(batch)
    }

    private static func leases(_ batch: LeaseBatchBody) throws -> [Lease] {
        try batch.leases.map { body in
            guard let job = body.job.job else { throw ClientError.transport("the server sent a malformed job") }
            return Lease(job: job, token: LeaseToken(jobID: job.id, fence: body.fence))
        }
    }
}
