import AtelierCore
import AtelierStore
import AtelierTestSupport
import Foundation
import Testing

/// An engine under test: how to open a fresh store, and how to open the same one again
/// (a restart). The whole suite runs unchanged on every engine in `StoreEngine.all`.
struct StoreEngine: Sendable, CustomTestStringConvertible {
    var name: String
    var open: @Sendable (_ directory: URL, _ quotas: Quotas) async throws -> any JobStore

    var testDescription: String { name }

    static let sqlite = StoreEngine(name: "sqlite") { directory, quotas in
        try SQLiteJobStore(path: directory.appendingPathComponent("atelier.sqlite").path, defaultQuotas: quotas)
    }

    /// A database of its own on the test process's throw-away PostgreSQL server, named after
    /// the harness directory so that a restart opens the same one.
    static let postgres = StoreEngine(name: "postgres") { directory, quotas in
        let server = try await ThrowawayPostgres.shared()
        let name = "t_" + directory.lastPathComponent.filter { $0.isLetter || $0.isNumber }.lowercased()
        let marker = directory.appendingPathComponent("postgres-database")
        if !FileManager.default.fileExists(atPath: marker.path) {
            _ = try await server.createDatabase(name)
            try Data(name.utf8).write(to: marker)
        }
        return try await PostgresJobStore(url: server.url(database: name), defaultQuotas: quotas)
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

    /// The quotas of creators without their own.
    let quotas: Quotas

    init(_ engine: StoreEngine, quotas: Quotas = .unlimited) async throws {
        self.engine = engine
        self.quotas = quotas
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try await engine.open(directory, quotas)
        ids = IDGenerator(clock: clock, random: SplitMix64(seed: 42))
    }

    /// Opens the same database again, as a restarted server would.
    mutating func restart() async throws {
        store = try await engine.open(directory, quotas)
    }

    /// A creator with `credits` to spend (plenty unless a test is about credits).
    func makeCreator(_ name: String, weight: Int = 1, credits: Int = 1_000_000_000) async throws -> CreatorID {
        let creator = Creator(id: ids.creatorID(), name: name, weight: weight, credits: credits, createdAt: clock.now)
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

extension StoreHarness {
    /// A creator's whole credit log, oldest first, read page by page.
    func creditLog(_ creator: CreatorID) async throws -> [CreditTransaction] {
        var lines: [CreditTransaction] = []
        var cursor: Int64?
        repeat {
            let page = try await store.creditTransactions(CreditTransactionQuery(creatorID: creator, limit: 100, cursor: cursor))
            lines += page.transactions
            cursor = page.nextCursor
        } while cursor != nil
        return lines.reversed()
    }

    /// Checks the credit invariants of one creator against its log, recomputing everything:
    /// balance = grants + adjustments − captures; reserved = what open reservations hold;
    /// available ≥ 0; every job's reservation is open exactly while the job is, is its cost,
    /// and has ended as `charged` captured plus the rest released. Returns the account.
    @discardableResult
    func auditCredits(_ creator: CreatorID, sourceLocation: SourceLocation = #_sourceLocation) async throws -> CreditAccount {
        let account = try #require(try await store.creator(id: creator), sourceLocation: sourceLocation).account
        let log = try await creditLog(creator)
        #expect(log.map(\.id) == log.map(\.id).sorted(), "log ids must grow", sourceLocation: sourceLocation)
        var balance = 0
        var reserved = 0
        var perJob: [JobID: (reserved: Int, captured: Int, released: Int)] = [:]
        for line in log {
            #expect(line.creatorID == creator, sourceLocation: sourceLocation)
            switch line.kind {
            case .grant:
                #expect(line.amount > 0, sourceLocation: sourceLocation)
                balance += line.amount
            case .adjustment:
                balance += line.amount
            case .reserve:
                reserved += line.amount
                perJob[try #require(line.jobID), default: (0, 0, 0)].reserved += line.amount
            case .capture:
                balance -= line.amount
                reserved -= line.amount
                perJob[try #require(line.jobID), default: (0, 0, 0)].captured += line.amount
            case .release:
                reserved -= line.amount
                perJob[try #require(line.jobID), default: (0, 0, 0)].released += line.amount
            }
        }
        #expect(account.balance == balance, "cached balance disagrees with the log", sourceLocation: sourceLocation)
        #expect(account.reserved == reserved, "cached reservation disagrees with the log", sourceLocation: sourceLocation)
        #expect(account.available >= 0, sourceLocation: sourceLocation)
        for (id, lines) in perJob {
            let job = try await self.job(id)
            #expect(job.parentID == nil, "scene job \(id) reserved credits", sourceLocation: sourceLocation)
            #expect(lines.reserved == job.cost, "job \(id) reserved \(lines.reserved), costs \(job.cost)",
                    sourceLocation: sourceLocation)
            if job.status.isTerminal {
                #expect(lines.captured + lines.released == lines.reserved, "job \(id) ended holding credits",
                        sourceLocation: sourceLocation)
                #expect(job.charged == lines.captured, sourceLocation: sourceLocation)
                switch job.status {
                case .succeeded: #expect(lines.captured == job.cost, sourceLocation: sourceLocation)
                case .failed: #expect(lines.captured == 0, sourceLocation: sourceLocation)
                default: #expect(lines.captured <= job.cost, sourceLocation: sourceLocation)
                }
            } else {
                #expect(lines.captured == 0 && lines.released == 0, "open job \(id) was settled",
                        sourceLocation: sourceLocation)
                #expect(job.charged == nil, sourceLocation: sourceLocation)
            }
        }
        return account
    }
}
