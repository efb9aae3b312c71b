import AtelierBlobs
import AtelierWire
import Foundation
import Testing

/// The worker protocol spoken by hand, one call at a time, so tests can interleave it with
/// creators' calls and observe each step.
struct WorkerCalls: Sendable {
    let api: API

    func lease(pool: String = "image", limit: Int = 1, wait: Double = 0) async throws -> [LeaseBody] {
        let response = try await api.send(.POST, "/v1/worker/lease",
                                          json: LeaseCallBody(pool: pool, models: ["builtin"], limit: limit, waitSeconds: wait))
        #expect(response.status == 200, "\(response.text)")
        return try response.decode(LeaseBatchBody.self).leases
    }

    func heartbeat(_ lease: LeaseBody, progress: Double) async throws -> APIResponse {
        try await api.send(.POST, "/v1/worker/jobs/\(lease.job.id)/heartbeat", json: HeartbeatCallBody(fence: lease.fence, progress: progress))
    }

    func upload(_ lease: LeaseBody, name: String, data: Data, contentType: String = "image/png") async throws -> APIResponse {
        try await api.send(.PUT, "/v1/worker/jobs/\(lease.job.id)/artifacts/\(name)?fence=\(lease.fence)", body: data, contentType: contentType)
    }

    func complete(_ lease: LeaseBody, artifacts: [UploadedArtifactBody]) async throws -> APIResponse {
        try await api.send(.POST, "/v1/worker/jobs/\(lease.job.id)/complete",
                           json: CompleteCallBody(fence: lease.fence, artifacts: artifacts, next: nil))
    }

    /// Uploads `data` as `name` and completes the lease with it.
    func finish(_ lease: LeaseBody, name: String = "image.png", data: Data = Data("not really a png".utf8)) async throws -> APIResponse {
        let uploaded = try await upload(lease, name: name, data: data)
        #expect(uploaded.status == 201, "\(uploaded.text)")
        return try await complete(lease, artifacts: [try uploaded.decode(UploadedArtifactBody.self)])
    }

    func fail(_ lease: LeaseBody, retryable: Bool) async throws -> APIResponse {
        try await api.send(.POST, "/v1/worker/jobs/\(lease.job.id)/fail",
                           json: FailCallBody(fence: lease.fence, error: ErrorBody(code: "gpu_busy", message: "device busy"), retryable: retryable))
    }

    func release(_ lease: LeaseBody) async throws -> APIResponse {
        try await api.send(.POST, "/v1/worker/jobs/\(lease.job.id)/release", json: ReleaseCallBody(fence: lease.fence))
    }
}

extension TestServer {
    func workerCalls(_ name: String = "worker-\(UUID().uuidString.prefix(8))") async throws -> WorkerCalls {
        WorkerCalls(api: try await worker(name).0)
    }
}

/// Collects server-sent events from one stream until it ends, so a test can wait for each.
actor EventLog {
    private(set) var events: [(event: String, job: JobEventResource)] = []
    private(set) var ended = false

    func append(_ event: String, _ data: String) throws {
        events.append((event, try WireCoding.decoder().decode(JobEventResource.self, from: Data(data.utf8))))
    }

    func end() { ended = true }

    /// Waits until `condition` holds for the events so far (or the stream has ended).
    func wait(timeout: Duration = .seconds(30), until condition: ([(event: String, job: JobEventResource)]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(events) {
            if ended || ContinuousClock.now > deadline { return condition(events) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    var names: [String] { events.map(\.event) }
}

/// Runs `body`, failing with a clear message instead of hanging when it takes longer than `limit`.
func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TimedOut(what: what)
        }
        group.cancelAll()
        return value
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}
