import AtelierCore
import AtelierStore
import AtelierTestSupport
import Foundation
import Testing

/// An engine under test: how to open a fresh store, and how to open the same one again
/// (a restart). The whole suite runs unchanged on every engine in `StoreEngine.all`.
struct StoreEngine: Sendable, CustomTestStringConvertible {
    var name: String
    var open: @Sendable (_ directory: URL) async throws -> any JobStore

    var testDescription: String { name }

    static let sqlite = StoreEngine(name: "sqlite") { directory in
        try SQLiteJobStore(path: directory.appendingPathComponent("atelier.sqlite").path)
    }

    /// A database of its own on the test process's throw-away PostgreSQL server, named after
    /// the harness directory so that a restart opens the same one.
    static let postgres = StoreEngine(name: "postgres") { directory in
        let server = try await ThrowawayPostgres.shared()
        let name = "t_" + directory.lastPathComponent.filter { $0.isLetter || $0.isNumber }.lowercased()
        let marker = directory.appendingPathComponent("postgres-database")
        if !FileManager.default.fileExists(atPath: marker.path) {
            _ = try await server.createDatabase(name)
            try Data(name.utf8).write(to: marker)
        }
        return try await PostgresJobStore(url: server.url(database: name))
    }

    static let all: [StoreEngine] = [.sqlite, .postgres]
}

/// A fresh store in its own directory, with helpers to make creators and jobs.
struct StoreHarness {
    let engine: StoreEngine
    let directory: URL
    var store: any JobStore
    let clock = ManualWallClock()
    let ids: IDGenerator

    init(_ engine: StoreEngine) async throws {
        self.engine = engine
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try await engine.open(directory)
        ids = IDGenerator(clock: clock, random: SplitMix64(seed: 42))
    }

    /// Opens the same database again, as a restarted server would.
    mutating func restart() async throws {
        store = try await engine.open(directory)
    }

    func makeCreator(_ name: String, weight: Int = 1) async throws -> CreatorID {
        let creator = Creator(id: ids.creatorID(), name: name, weight: weight, createdAt: clock.now)
        try await store.createCreator(creator)
        return creator.id
    }

    func newJob(_ creator: CreatorID, cost: Int = 1, priority: Int = 0, model: ModelID = .builtin,
                pool: PoolName = .image, maxAttempts: Int = 3, key: String? = nil, fingerprint: String? = nil,
                prompt: String = "a red fox in fresh snow") -> NewJob {
        NewJob(id: ids.jobID(), creatorID: creator, kind: .image, pool: pool, model: model, prompt: prompt,
               params: JobParams(width: 64, height: 64, seed: 1), priority: priority, cost: cost,
               maxAttempts: maxAttempts, idempotencyKey: key, requestFingerprint: fingerprint)
    }

    @discardableResult
    func enqueue(_ jobs: [NewJob]) async throws -> [Job] {
        try await store.enqueue(jobs, now: clock.now).map(\.job)
    }

    func lease(_ limit: Int = 1, pool: PoolName = .image, models: Set<ModelID> = [.builtin],
               worker: String = "w1", duration: TimeInterval = 30) async throws -> [Lease] {
        try await store.leaseJobs(
            LeaseRequest(pool: pool, worker: WorkerID(rawValue: worker)!, models: models, limit: limit,
                         leaseDuration: duration),
            now: clock.now
        )
    }

    func job(_ id: JobID) async throws -> Job {
        try #require(try await store.job(id: id, scope: .operator))
    }
}
