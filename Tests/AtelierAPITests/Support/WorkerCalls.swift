import AtelierBlobs
import AtelierWire
import Foundation
import Synchronization
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
/// The body runs as its own task and is cancelled, not awaited, when time runs out: a body that
/// ignores cancellation (awaiting another task's value, say) cannot hold the test up.
func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = FirstOutcome<T>()
    let work = Task { outcome.finish(await Result(catching: body)) }
    let timer = Task {
        try? await Task.sleep(for: limit)
        outcome.finish(.failure(TimedOut(what: what)))
    }
    defer {
        work.cancel()
        timer.cancel()
    }
    return try await outcome.value()
}

/// The first of several outcomes, handed to one waiter; later ones are dropped.
private final class FirstOutcome<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, any Error>?, waiter: CheckedContinuation<T, any Error>?)>((nil, nil))

    func finish(_ result: Result<T, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<T, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}
