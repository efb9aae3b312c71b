import ArgumentParser
import AtelierBenchmarks
import AtelierStore
import Foundation

/// `atelier bench`: the release-build benchmarks recorded in docs/benchmarks.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the engine benchmarks and print a Markdown table.",
        discussion: "Build with -c release: swift run -c release atelier bench"
    )

    @Option(help: "Comma-separated subset of: render, film, throughput, phases, latency, fairness (= flood, shares), backlog, ledger.")
    var only = "render,film,throughput,phases,latency,fairness,backlog,ledger"

    static let benchmarks: Set = ["render", "film", "throughput", "phases", "latency", "fairness", "flood", "shares", "backlog", "ledger"]

    @Option(help: "SQLite durability: full (fsync each commit), normal, or both.")
    var durability = "both"

    @Option(help: "Jobs in the throughput benchmark (default 200,000; 20,000 with --quick).")
    var jobs: Int?

    @Option(help: "Run throughput, phases, latency and fairness on this PostgreSQL database instead (its tables are emptied!).")
    var database: String?

    @Option(help: "With --database: run the fairness probes through this many store nodes on the one database as well.")
    var nodes = 1

    @Option(help: "Entries in the ledger benchmark (default 1,000,000; 20,000 with --quick).")
    var entries: Int?

    @Flag(help: "Smaller sizes, for a quick check that the benchmarks run.")
    var quick = false

    func run() async throws {
        var selected = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if let unknown = selected.subtracting(Self.benchmarks).sorted().first {
            throw ValidationError("--only: no benchmark named '\(unknown)' (choose from \(Self.benchmarks.sorted().joined(separator: ", ")))")
        }
        if selected.contains("fairness") { selected.formUnion(["flood", "shares"]) }
        guard nodes == 1 || (database != nil && (1...8).contains(nodes)) else {
            throw ValidationError("--nodes needs --database (an embedded SQLite store is one node) and is at most 8")
        }
        let modes: [BenchEngine]
        switch (database, durability) {
        case (let url?, _): modes = [.postgres(url)]
        case (nil, "both"): modes = [.sqlite(.full), .sqlite(.normal)]
        default:
            guard let mode = SQLiteJobStore.Durability(rawValue: durability) else {
                throw ValidationError("--durability must be full, normal or both")
            }
            modes = [.sqlite(mode)]
        }
        print("| benchmark | result | target | verdict |")
        print("|---|---|---|---|")
        func report(_ results: [BenchmarkResult]) {
            for result in results { print(result.markdownRow) }
        }
        if selected.contains("render") {
            report(try RenderBenchmark.run(iterations: quick ? 4 : 20))
        }
        if selected.contains("film") {
            report(try await FilmBenchmark.run(quick: quick))
        }
        for mode in modes {
            if selected.contains("throughput") { report(try await ThroughputBenchmark.run(jobs: jobs ?? (quick ? 20_000 : 200_000), engine: mode)) }
            if selected.contains("phases") { report(try await ThroughputBenchmark.phases(jobs: jobs ?? 100_000, engine: mode)) }
            if selected.contains("latency") { report(try await DispatchLatencyBenchmark.run(samples: quick ? 200 : 2_000, engine: mode)) }
            if selected.contains("ledger") {
                report(try await LedgerBenchmark.run(entries: entries ?? (quick ? 20_000 : 1_000_000), engine: mode))
            }
            if selected.contains("flood") {
                report(try await FairnessBenchmark.flood(engine: mode))
                if nodes > 1 { report(try await FairnessBenchmark.flood(engine: mode, nodes: nodes)) }
            }
            if selected.contains("shares") {
                report(try await FairnessBenchmark.weightedShares(engine: mode))
                if nodes > 1 { report(try await FairnessBenchmark.weightedShares(engine: mode, nodes: nodes)) }
            }
        }
        if selected.contains("backlog") {
            report(try await BacklogBenchmark.run(largeJobs: quick ? 100_000 : 1_000_000, largeCreators: quick ? 1_000 : 10_000,
                                                  durability: .normal))
        }
    }
}
