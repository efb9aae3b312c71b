import AtelierCore
public import AtelierStore
import Foundation

/// The store engine a benchmark runs on.
public enum BenchEngine: Sendable {
    case sqlite(SQLiteJobStore.Durability)
    /// A PostgreSQL database URL; each benchmark empties the tables it uses first.
    case postgres(String)

    var label: String {
        switch self {
        case .sqlite(let durability): "SQLite, durability \(durability.rawValue)"
        case .postgres: "PostgreSQL"
        }
    }

    /// (a)'s target in jobs/s: issue 2's for the embedded engine, issue 4's for PostgreSQL (the
    /// database is another process, on the same two cores).
    var throughputTarget: (jobsPerSecond: Double, text: String) {
        switch self {
        case .sqlite: (20_000, "≥ 20,000 jobs/s")
        case .postgres: (10_000, "≥ 10,000 jobs/s")
        }
    }

    /// (b)'s p50 target in milliseconds, by the same issues.
    var dispatchP50Target: (milliseconds: Double, text: String) {
        switch self {
        case .sqlite: (1, "≤ 1 ms")
        case .postgres: (3, "≤ 3 ms")
        }
    }

    /// (b)'s p99 target in milliseconds; issue 4 sets none for PostgreSQL.
    var dispatchP99Target: (milliseconds: Double, text: String)? {
        switch self {
        case .sqlite: (5, "≤ 5 ms")
        case .postgres: nil
        }
    }
}

/// Shared pieces of the benchmarks: fresh stores, creators, job factories and statistics.
struct BenchmarkBed {
    let directory: URL
    /// The store nodes: one, or on PostgreSQL several stores on the one database, as several
    /// `atelier serve` processes would have.
    let nodes: [any JobStore]
    var store: any JobStore { nodes[0] }
    let clock = SystemWallClock()
    let ids: IDGenerator

    init(durability: SQLiteJobStore.Durability) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.init(directory: directory,
                  nodes: [try SQLiteJobStore(path: directory.appendingPathComponent("bench.sqlite").path, durability: durability)])
    }

    private init(directory: URL, nodes: [any JobStore]) {
        self.directory = directory
        self.nodes = nodes
        ids = IDGenerator(clock: clock)
    }

    /// A fresh store; `nodes` > 1 opens that many stores on one PostgreSQL database (SQLite has
    /// one node only).
    init(engine: BenchEngine, nodes count: Int = 1) async throws {
        switch engine {
        case .sqlite(let durability):
            precondition(count == 1, "an embedded SQLite store is one node")
            try self.init(durability: durability)
        case .postgres(let url):
            let first = try await PostgresJobStore(url: url)
            try await first.removeEverything()
            var nodes: [any JobStore] = [first]
            for _ in 1..<max(count, 1) { nodes.append(try await PostgresJobStore(url: url)) }
            self.init(directory: FileManager.default.temporaryDirectory.appendingPathComponent("atelier-bench-\(UUID().uuidString)"),
                      nodes: nodes)
        }
    }

    /// Runs each node's housekeeping every second, as the maintenance service does in production.
    func startHousekeeping() -> Task<Void, Never> {
        let nodes = self.nodes
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                for node in nodes { try? await node.performHousekeeping() }
            }
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeCreators(_ count: Int, weight: (Int) -> Int = { _ in 1 }) async throws -> [CreatorID] {
        var created: [CreatorID] = []
        for index in 0..<count {
            let id = ids.creatorID()
            try await store.createCreator(Creator(id: id, name: "bench-\(index)-\(id)", weight: weight(index),
                                                  credits: Creator.maximumCredits, createdAt: clock.now))
            created.append(id)
        }
        return created
    }

    func job(_ creator: CreatorID, cost: Int = 1) -> NewJob {
        NewJob(id: ids.jobID(), creatorID: creator, kind: .image, pool: .image, model: .builtin, prompt: "noop",
               params: JobParams(width: 64, height: 64), cost: cost)
    }

    func leaseRequest(worker: String, limit: Int) -> LeaseRequest {
        LeaseRequest(pool: .image, worker: WorkerID(rawValue: worker)!, models: [.builtin], limit: limit)
    }
}

/// Nearest-rank percentile of an unsorted sample.
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
}

/// Seconds elapsed on the monotonic clock while running `body`.
func measure(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// One line of results: a name, the figure, the unit, the target and whether it was met.
public struct BenchmarkResult: Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    public var target: String
    public var isMet: Bool?

    public init(name: String, value: Double, unit: String, target: String, isMet: Bool? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
        self.target = target
        self.isMet = isMet
    }

    public var markdownRow: String {
        let verdict = isMet.map { $0 ? "met" : "**missed**" } ?? "—"
        return "| \(name) | \(String(format: value >= 100 ? "%.0f" : "%.3g", value)) \(unit) | \(target) | \(verdict) |"
    }
}
