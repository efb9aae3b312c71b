import ArgumentParser

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
}
