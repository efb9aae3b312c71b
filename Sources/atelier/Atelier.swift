import ArgumentParser
import Foundation

/// The `atelier` command: one binary for the server, workers, the client and the benchmarks.
@main
struct Atelier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atelier",
        abstract: "Self-hosted generative media: fair scheduling, durable jobs, verifiable provenance.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, WorkerCommand.self, CreatorsCommand.self, SubmitCommand.self, JobsCommand.self,
            DownloadCommand.self, LedgerCommand.self, ProvenanceCommand.self, DemoCommand.self, RenderCommand.self,
            BenchCommand.self,
        ]
    )

    /// ArgumentParser's entry point, except that a failure is always one line on stderr and a
    /// non-zero exit: for a bad flag ArgumentParser would also print the usage, which is what
    /// `--help` is for. `--help` and `--version` behave as ArgumentParser makes them.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let line = message(for: error).split(separator: "\n").first.map(String.init) ?? "failed"
            FileHandle.standardError.write(Data("Error: \(line)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
