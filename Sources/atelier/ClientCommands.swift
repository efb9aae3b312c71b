import ArgumentParser
import AtelierClient
import AtelierCore
import AtelierWire
import Foundation

/// `atelier creators create|list` (admin key).
struct CreatorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creators", abstract: "Create and list creators (needs the admin key).",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a creator and print its API key (shown once).")
        @OptionGroup var connection: Connection
        @Argument(help: "The creator's name.") var name: String
        @Option(help: "Share of the GPUs relative to other creators.") var weight = 1
        @Option(help: "Credits to grant.") var credits = 0

        func run() async throws {
            let creator = try await connection.client().createCreator(name: name, weight: weight, credits: credits)
            print("created creator \(creator.name) (\(creator.id)), weight \(creator.weight)")
            print("api key (shown once): \(creator.apiKey ?? "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List creators.")
        @OptionGroup var connection: Connection

        func run() async throws {
            for creator in try await connection.client().creators() {
                print("\(creator.id)  \(creator.name)  weight \(creator.weight)  credits \(creator.credits.available) available of \(creator.credits.balance)")
            }
        }
    }
}

/// `atelier submit "prompt" [--wait]`.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Submit a prompt as a job.")
    @OptionGroup var connection: Connection
    @Argument(help: "What to generate.") var prompt: String
    @Option(help: "image or video.") var kind = "image"
    @Option(help: "The model (see GET /v1/models).") var model = "builtin"
    @Option var width: Int?
    @Option var height: Int?
    @Option var seed: UInt32?
    @Option(help: "png or gif; mp4 or webm for a film (video).") var format: String?
    @Option(help: "Frames of an animated loop.") var frames: Int?
    @Option(help: "A film's length in seconds.") var duration: Double?
    @Option(help: "A film's scenes (default: the planner decides).") var scenes: Int?
    @Option(help: "The transition between a film's scenes (fade, dissolve, wipeleft, …).") var transition: String?
    @Option(help: "Among your own jobs, higher runs first (-100…100).") var priority = 0
    @Option(help: "Makes retrying this command safe: the same key returns the same job.") var idempotencyKey: String?
    @Flag(help: "Wait for the job, showing progress, then download its files.") var wait = false
    @Option(name: .shortAndLong, help: "Where --wait saves the files.") var output = "."

    func run() async throws {
        guard let kind = JobKind(rawValue: kind) else { throw CLIFailure("--kind must be image or video") }
        var outputFormat: OutputFormat?
        if let format {
            guard let parsed = OutputFormat(rawValue: format) else { throw CLIFailure("--format must be png, gif, mp4 or webm") }
            outputFormat = parsed
        }
        let client = try connection.client()
        let body = CreateJobBody(kind: kind, prompt: prompt, model: model,
                                 params: ParamsBody(width: width, height: height, seed: seed, format: outputFormat, frames: frames,
                                                    durationS: duration, scenes: scenes, transition: transition),
                                 priority: priority)
        let job = try await client.submit(body, idempotencyKey: idempotencyKey)
        print("submitted \(job.id) (\(job.kind.rawValue), cost \(job.cost) credits)")
        guard wait else { return }
        let finished = try await Follow.untilFinished(job.id, client: client)
        try await Follow.finish(finished, client: client, directory: output)
    }
}

/// `atelier jobs list|get|cancel`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List, inspect and cancel jobs.", subcommands: [List.self, Get.self, Cancel.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your jobs, newest first.")
        @OptionGroup var connection: Connection
        @Option(help: "Only jobs in this status.") var status: String?
        @Option(help: "How many (1…100).") var limit = 20

        func run() async throws {
            var filter: JobStatus?
            if let status {
                guard let parsed = JobStatus(rawValue: status) else {
                    throw CLIFailure("--status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter = parsed
            }
            let page = try await connection.client().jobs(status: filter, limit: limit)
            for job in page.data {
                let progress = String(format: "%3.0f%%", job.progress * 100)
                print("\(job.id)  \(job.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(progress)  \(job.prompt)")
            }
            if let next = page.nextCursor { print("more: --cursor \(next)") }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job as JSON.")
        @OptionGroup var connection: Connection
        @Argument var id: String

        func run() async throws {
            let job = try await connection.client().job(id)
            let encoder = WireCoding.encoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(job), as: UTF8.self))
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running job.")
        @OptionGroup var connection: Connection
        @Argument var id: String

        func run() async throws {
            let job = try await connection.client().cancel(id)
            print(job.status == .canceled ? "canceled \(job.id)" : "cancel requested for \(job.id); its worker stops at the next heartbeat")
        }
    }
}

/// `atelier download JOB [-o DIR]`.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "download", abstract: "Save a finished job's files.")
    @OptionGroup var connection: Connection
    @Argument var id: String
    @Option(name: .shortAndLong, help: "Directory to save into.") var output = "."

    func run() async throws {
        let client = try connection.client()
        let job = try await client.job(id)
        guard job.status == .succeeded else {
            throw CLIFailure("job \(job.id) is \(job.status.rawValue); only succeeded jobs have files")
        }
        try await Follow.finish(job, client: client, directory: output)
    }
}

/// Following a job to its end, and saving what it made.
enum Follow {
    /// Streams the job's events, drawing a progress bar on a terminal and plain lines otherwise.
    static func untilFinished(_ id: String, client: AtelierClient) async throws -> JobResource {
        let isTerminal = isatty(STDOUT_FILENO) == 1
        var lastLine = ""
        for try await event in try client.events(of: id) {
            guard let update = try? WireCoding.decoder().decode(JobEventResource.self, from: Data(event.data.utf8)) else { continue }
            let line = "\(update.status.rawValue) \(Int(update.progress * 100))%"
            if isTerminal {
                let filled = Int(update.progress * 30)
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
                print("\r\(bar) \(line)    ", terminator: "")
                fflush(nil)
            } else if line != lastLine {
                print(line)
            }
            lastLine = line
            if update.status.isTerminal { break }
        }
        if isTerminal { print("") }
        return try await client.job(id)
    }

    /// Downloads a succeeded job's artifacts; a job that did not succeed is an error.
    static func finish(_ job: JobResource, client: AtelierClient, directory: String) async throws {
        guard job.status == .succeeded else {
            let reason = job.error.map { ": \($0.code): \($0.message)" } ?? ""
            throw CLIFailure("job \(job.id) \(job.status.rawValue)\(reason)")
        }
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for artifact in job.artifacts {
            let data = try await client.download(artifact)
            // The file name comes from the server; only its last path component is used.
            let name = "\(job.id)-\(URL(fileURLWithPath: artifact.name).lastPathComponent)"
            let file = folder.appendingPathComponent(name)
            try data.write(to: file, options: .atomic)
            print("saved \(file.path) (\(data.count) bytes)")
        }
    }
}

/// A command that could not do what was asked, for a reason that is not a usage mistake:
/// printed as one line, exit status 1.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
