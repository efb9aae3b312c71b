import ArgumentParser
import AtelierBlobs
import AtelierCore
import AtelierMedia
import AtelierScheduler
import AtelierStore
import AtelierWorker
import Foundation
import Logging
import ServiceLifecycle

/// `atelier demo`: starts the embedded platform (SQLite store, file blobs, image and video
/// worker pools, store maintenance) in this process, runs a small studio's worth of prompts from
/// three creators through it, and shows the fair order in which they were served.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Start the embedded platform and run sample prompts through it."
    )

    @Option(help: "Where the database and artifacts live.") var dataDir = "./atelier-data"
    @Option(help: "Worker slots per pool (default: number of cores).") var workers = ProcessInfo.processInfo.activeProcessorCount

    func run() async throws {
        let root = URL(fileURLWithPath: dataDir, isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let clock = SystemWallClock()
        let ids = IDGenerator(clock: clock)
        let store = try SQLiteJobStore(path: root.appendingPathComponent("atelier.sqlite").path)
        let blobs = try FileBlobStore(root: root.appendingPathComponent("blobs", isDirectory: true))
        let ffmpeg = FFmpeg.locate(environment: ProcessInfo.processInfo.environment)
        if ffmpeg == nil { print("note: ffmpeg not found; GIF loops will fail (apt-get install -y ffmpeg)") }
        var logger = Logger(label: "atelier")
        logger.logLevel = .warning

        let pools = [PoolName.image, .video].map { pool in
            WorkerPool(store: store, blobs: blobs, backend: BuiltinBackend(ffmpeg: ffmpeg, ffprobe: FFprobe.locate(besides: ffmpeg, searchPath: ProcessInfo.processInfo.environment["PATH"])),
                       configuration: WorkerConfiguration(worker: WorkerID(rawValue: "demo-\(pool)")!, pool: pool, slots: workers),
                       clock: clock, logger: logger)
        }
        let maintenance = StoreMaintenance(store: store, clock: clock, logger: logger)
        let group = ServiceGroup(services: pools + [maintenance] as [any Service],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)

        let suffix = String(ids.next().description.suffix(6))
        let studio: [(name: String, weight: Int, prompts: [String])] = [
            ("ada-\(suffix)", 2, ["a lighthouse on the coast at dusk", "a red fox in fresh snow", "a castle in the misty mountains at dawn"]),
            ("bo-\(suffix)", 1, ["a neon city skyline at night", "a cabin in a pine forest"]),
            ("cy-\(suffix)", 1, ["a boat on the sea under the moon", "golden desert dunes with a monolith"]),
        ]
        var submitted: [(creator: String, job: Job)] = []
        for member in studio {
            let creator = Creator(id: ids.creatorID(), name: member.name, weight: member.weight, credits: 1_000_000,
                                  createdAt: clock.now)
            try await store.createCreator(creator)
            for (index, prompt) in member.prompts.enumerated() {
                let request = JobRequest(kind: .image, prompt: prompt, params: JobParams(width: 768, height: 512, seed: UInt32(index)))
                let job = try request.validated(id: ids.jobID(), creator: creator.id, costModel: CostModel())
                submitted.append((member.name, try await store.enqueue([job], now: clock.now)[0].job))
            }
            let loop = JobRequest(kind: .video, prompt: member.prompts[0] + " with drifting clouds",
                                  params: JobParams(width: 320, height: 180, format: .gif, frames: 24))
            let job = try loop.validated(id: ids.jobID(), creator: creator.id, costModel: CostModel())
            submitted.append((member.name, try await store.enqueue([job], now: clock.now)[0].job))
        }
        print("Atelier embedded platform: \(workers) slot(s) per pool, data in \(root.path)")
        print("queued \(submitted.count) jobs from \(studio.count) creators; rendering…")

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var finished: [JobID: Job] = [:]
            while finished.count < submitted.count {
                try await Task.sleep(for: .milliseconds(100))
                for entry in submitted where finished[entry.job.id] == nil {
                    if let job = try await store.job(id: entry.job.id, scope: .operator), job.status.isTerminal {
                        finished[job.id] = job
                    }
                }
            }
            print("\nserved in this order (fair share by weight, priority, then age):")
            for (creator, job) in submitted.map({ ($0.creator, finished[$0.job.id]!) })
                .sorted(by: { ($0.1.startedAt ?? .distantFuture) < ($1.1.startedAt ?? .distantFuture) }) {
                let artifact = try await store.artifacts(of: job.id).first
                let path = artifact.map { root.appendingPathComponent("blobs/\($0.storageKey)").path } ?? "-"
                print("  \(job.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(creator.padding(toLength: 10, withPad: " ", startingAt: 0)) \(job.prompt)\n            → \(path)")
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
