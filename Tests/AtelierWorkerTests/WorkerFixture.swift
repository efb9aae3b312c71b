import AtelierBlobs
import AtelierCore
import AtelierMedia
import AtelierScheduler
import AtelierStore
import AtelierWorker
import Foundation
import Testing

/// A real SQLite store and filesystem blob store in a fresh directory.
struct WorkerFixture {
    let directory: URL
    let store: SQLiteJobStore
    let blobs: FileBlobStore
    let clock: any WallClock
    let ids: IDGenerator

    init(clock: any WallClock = SystemWallClock()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteJobStore(path: directory.appendingPathComponent("atelier.sqlite").path)
        blobs = try FileBlobStore(root: directory.appendingPathComponent("blobs"))
        self.clock = clock
        ids = IDGenerator(clock: clock)
    }

    func makeCreator() async throws -> CreatorID {
        let id = ids.creatorID()
        try await store.createCreator(Creator(id: id, name: "creator-\(id)", weight: 1, credits: 1_000_000_000,
                                               createdAt: clock.now))
        return id
    }

    func submit(_ creator: CreatorID, _ request: JobRequest) async throws -> Job {
        let new = try request.validated(id: ids.jobID(), creator: creator, costModel: CostModel())
        return try await store.enqueue([new], now: clock.now)[0].job
    }

    func pool<B: Backend>(_ backend: B, pool: PoolName = .image, slots: Int = 2, lease: LeasePolicy = LeasePolicy(),
                          retry: RetryPolicy = RetryPolicy(), grace: Duration = .seconds(10),
                          leaseAhead: Duration = .milliseconds(50)) -> WorkerPool<B> {
        WorkerPool(
            store: store, blobs: blobs, backend: backend,
            configuration: WorkerConfiguration(
                worker: WorkerID(rawValue: "test-worker")!, pool: pool, slots: slots, lease: lease, retry: retry,
                idlePoll: .milliseconds(200), shutdownGrace: grace, leaseAhead: leaseAhead),
            clock: clock)
    }

    /// Polls until the job satisfies `condition`, failing after `timeout` real seconds.
    func waitFor(_ id: JobID, timeout: TimeInterval = 30, _ condition: (Job) -> Bool) async throws -> Job {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let job = try await store.job(id: id, scope: .operator), condition(job) { return job }
            try await Task.sleep(for: .milliseconds(20))
        }
        let last = try await store.job(id: id, scope: .operator)
        Issue.record("job \(id) did not reach the expected state in \(timeout) s; last seen: \(String(describing: last))")
        throw CancellationError()
    }
}

/// Runs until cancelled, reporting progress as it goes; counts its runs.
struct EndlessBackend: Backend {
    let runs = Counter()
    var models: Set<ModelID> { [.builtin] }

    func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        runs.increment()
        var progress = 0.0
        while true {
            progress = min(0.9, progress + 0.1)
            context.reportProgress(progress)
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Fails its first `failures` runs, then succeeds.
struct FlakyBackend: Backend {
    let failures: Int
    let isRetryable: Bool
    let runs = Counter()
    var models: Set<ModelID> { [.builtin] }

    func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        if runs.increment() <= failures {
            throw BackendError(code: "gpu_busy", message: "device busy", isRetryable: isRetryable)
        }
        return [BackendOutput(name: "output.txt", contentType: "text/plain", data: Data("done".utf8))]
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)

    @discardableResult
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    var count: Int { value.withLock { $0 } }
}

import Synchronization
