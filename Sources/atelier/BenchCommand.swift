import ArgumentParser

/// `atelier bench`: the release-build benchmarks recorded in docs/benchmarks.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Run the engine benchmarks.")
    func run() async throws {}
}
