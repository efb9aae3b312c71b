import AtelierBlobs
import AtelierMedia
import AtelierWire
import Foundation
import Testing

/// The `atelier` binary as users run it: remote workers, `atelier serve` and the client commands,
/// each a real child process talking real HTTP.
@Suite("The atelier binary", .serialized)
struct ProcessTests {
    /// A video long enough (hundreds of milliseconds to seconds) to be caught mid-render.
    private static let longVideo = CreateJobBody(kind: .video, prompt: "waves rolling onto a beach at dawn",
                                                 params: ParamsBody(width: 320, height: 180, seed: 3, format: .gif, frames: 96))

    @Test("a remote worker process leases, renders and uploads real jobs")
    func remoteWorkerDoesRealJobs() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let (_, worker) = try await server.worker("gpu-box-1")
            let child = try AtelierProcess(["worker", "--server", server.url, "--pool", "image", "--slots", "2"],
                                           environment: ["ATELIER_API_KEY": worker.apiKey ?? ""])
            _ = try await child.waitForOutput("slot(s) on pool image")
            var ids: [String] = []
            for seed in 1...3 { ids.append(try await alice.submit(smallImage("a lighthouse at dusk", seed: UInt32(seed))).id) }
            for id in ids {
                let job = try await alice.waitForJob(id) { $0.status.isTerminal }
                #expect(job.status == .succeeded, "\(job.error?.message ?? "")")
                let artifact = try #require(job.artifacts.first)
                let bytes = try await server.client(nil).send(.GET, artifact.url).body
                #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                #expect(bytes.count == artifact.bytes)
            }
            // Different seeds, different pictures: the worker really rendered each one.
            let digests = try await ids.asyncMap { try await alice.job($0).artifacts.first?.sha256 }
            #expect(Set(digests).count == 3)
            let workers = try await server.admin.send(.GET, "/v1/admin/workers").decode(ListBody<WorkerResource>.self).data
            #expect(workers.first?.online == true)

            child.signal(SIGTERM)
            #expect(await child.waitForExit() == 0, "\(child.stderr)")
        }
    }

    @Test("a remote worker process makes a film: its scene jobs, then the compose step with the clips fetched over the worker protocol")
    func remoteWorkerMakesAFilm() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let (_, worker) = try await server.worker("gpu-box-2")
            let child = try AtelierProcess(["worker", "--server", server.url, "--pool", "video", "--slots", "2"],
                                           environment: ["ATELIER_API_KEY": worker.apiKey ?? ""])
            _ = try await child.waitForOutput("slot(s) on pool video")
            let film = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "A lighthouse at dusk. Waves at night",
                params: ParamsBody(width: 192, height: 108, format: .mp4, fps: 8, durationS: 2, scenes: 2, transition: "fade")))
            let done = try await alice.waitForJob(film.id, timeout: .seconds(120)) { $0.status.isTerminal }
            #expect(done.status == .succeeded, "\(done.error?.message ?? "")")
            #expect(done.artifacts.map(\.name).sorted() == ["film.mp4", "poster.png", "preview.gif"])
            let sceneJobs = try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.filter { $0.parentID == film.id }
            #expect(sceneJobs.count == 2 && sceneJobs.allSatisfy { $0.status == .succeeded })
            let movie = try #require(done.artifacts.first { $0.name == "film.mp4" })
            let bytes = try await server.client(nil).send(.GET, movie.url).body
            #expect(bytes.count == movie.bytes && SHA256Hex.digest(bytes) == movie.sha256)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("remote-film-\(UUID().uuidString).mp4")
            try bytes.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let path = ProcessInfo.processInfo.environment["PATH"]
            let ffprobe = try #require(FFprobe.locate(besides: FFmpeg.locate(searchPath: path), searchPath: path))
            let probe = try await ffprobe.probe(file)
            #expect(probe.codec == "h264" && probe.width == 192 && probe.height == 108)
            #expect(abs(probe.duration - 2) <= 0.1, "\(probe.duration)")
            // The compose step fetched both clips from the server rather than rendering the scenes again.
            let metrics = try await server.client(nil).send(.GET, "/metrics").text
            let fetches = metrics.split(separator: "\n").filter { $0.hasPrefix("atelier_http_requests_total") && $0.contains("/scenes/") }
            #expect(fetches.count == 1 && fetches.first?.contains(#"status="200"} 2"#) == true, "\(fetches)")

            child.signal(SIGTERM)
            #expect(await child.waitForExit() == 0, "\(child.stderr)")
        }
    }

    @Test("a remote worker killed with SIGKILL mid-job loses nothing: the job completes exactly once")
    func killedWorkerLosesNothing() async throws {
        try await withServer(leaseDuration: 3) { server in
            let (alice, _) = try await server.creator()
            let (_, worker) = try await server.worker()
            let environment = ["ATELIER_API_KEY": worker.apiKey ?? ""]
            let job = try await alice.submit(Self.longVideo)
            let doomed = try AtelierProcess(["worker", "--server", server.url, "--pool", "video", "--slots", "1"], environment: environment)
            _ = try await alice.waitForJob(job.id, timeout: .seconds(60)) { $0.status == .running }
            doomed.signal(SIGKILL)
            #expect(await doomed.waitForExit() == SIGKILL)

            // The lease runs out, the job goes back to the queue with its attempt counted.
            let requeued = try await alice.waitForJob(job.id, timeout: .seconds(30)) { $0.status != .running }
            #expect(requeued.status == .queued, "\(requeued.status)")
            #expect(requeued.attempts == 1)
            #expect(requeued.artifacts.isEmpty)

            let rescuer = try AtelierProcess(["worker", "--server", server.url, "--pool", "video", "--slots", "1"], environment: environment)
            let done = try await alice.waitForJob(job.id, timeout: .seconds(120)) { $0.status.isTerminal }
            #expect(done.status == .succeeded, "\(done.error?.message ?? "")")
            #expect(done.attempts == 2)
            let names = done.artifacts.map(\.name)
            #expect(!names.isEmpty)
            #expect(Set(names).count == names.count, "each artifact once: \(names)")
            let metrics = try await server.client(nil).send(.GET, "/metrics").text
            #expect(metrics.contains(#"atelier_jobs_finished_total{pool="video",status="succeeded"} 1"#), "\(metrics)")
            #expect(metrics.contains("atelier_lease_expiries_total 1"))
            rescuer.signal(SIGTERM)
            #expect(await rescuer.waitForExit() == 0)
        }
    }

    @Test("atelier serve shuts down on SIGTERM: it stops accepting, hands running jobs back and exits cleanly")
    func gracefulShutdown() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let adminKey = "atl_admin_processTest000000000000000000000"
        func serve(workers: Int) async throws -> (AtelierProcess, API) {
            let child = try AtelierProcess(["serve", "--data-dir", directory.path, "--port", "0", "--workers", "\(workers)",
                                            "--shutdown-grace", "0", "--log-level", "warning"],
                                           environment: ["ATELIER_ADMIN_KEY": adminKey])
            let output = try await child.waitForOutput("Atelier listening on ")
            let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("Atelier listening on ") })
            let url = String(try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }))
            return (child, API(url: url, key: adminKey))
        }

        let (first, admin) = try await serve(workers: 1)
        let created = try await admin.send(.POST, "/v1/admin/creators", json: CreateCreatorBody(name: "alice", credits: 100_000))
        let alice = API(url: admin.url, key: try created.decode(CreatorResource.self).apiKey)
        let job = try await alice.submit(Self.longVideo)
        _ = try await alice.waitForJob(job.id, timeout: .seconds(60)) { $0.status == .running }
        first.signal(SIGTERM)
        #expect(await first.waitForExit(timeout: .seconds(30)) == 0, "\(first.stderr)")
        await #expect(throws: (any Error).self) { try await admin.send(.GET, "/v1/health") }

        // The running job was handed back at once, not left to its lease's expiry.
        let (second, admin2) = try await serve(workers: 0)
        let alice2 = API(url: admin2.url, key: alice.key)
        let after = try await alice2.job(job.id)
        #expect(after.status == .queued, "\(after.status)")
        #expect(after.artifacts.isEmpty)
        second.signal(SIGINT)
        #expect(await second.waitForExit(timeout: .seconds(30)) == 0, "\(second.stderr)")
    }

    @Test("the CLI creates creators, submits with --wait, lists, gets, downloads and fails in one line")
    func cli() async throws {
        try await withServer(workers: 1) { server in
            let admin = ["ATELIER_SERVER": server.url, "ATELIER_API_KEY": TestServer.adminKey]
            let created = try await AtelierProcess.run(["creators", "create", "alice", "--credits", "500", "--weight", "2"], environment: admin)
            #expect(created.status == 0, "\(created.stderr)")
            let keyLine = try #require(created.stdout.split(separator: "\n").first { $0.contains("api key") })
            let key = String(try #require(keyLine.split(separator: " ").last))
            #expect(key.hasPrefix("atl_creator_"))
            let listed = try await AtelierProcess.run(["creators", "list"], environment: admin)
            #expect(listed.stdout.contains("alice  weight 2  credits 500 available of 500"), "\(listed.stdout)")

            let output = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-cli-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let alice = ["ATELIER_SERVER": server.url, "ATELIER_API_KEY": key]
            let submitted = try await AtelierProcess.run(["submit", "a lighthouse at dusk", "--kind", "image", "--width", "128",
                                                          "--height", "96", "--wait", "-o", output.path], environment: alice)
            #expect(submitted.status == 0, "\(submitted.stderr)")
            // Not a terminal: plain progress lines, then where the result went.
            #expect(submitted.stdout.contains("succeeded 100%"), "\(submitted.stdout)")
            let savedLine = try #require(submitted.stdout.split(separator: "\n").first { $0.hasPrefix("saved ") })
            let path = String(savedLine.dropFirst("saved ".count).prefix { $0 != " " })
            #expect(path.hasPrefix(output.path))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let id = String(try #require(submitted.stdout.split(separator: " ").dropFirst().first))

            let list = try await AtelierProcess.run(["jobs", "list"], environment: alice)
            #expect(list.stdout.contains(id) && list.stdout.contains("succeeded"), "\(list.stdout)")
            let got = try await AtelierProcess.run(["jobs", "get", id], environment: alice)
            #expect(try WireCoding.decoder().decode(JobResource.self, from: Data(got.stdout.utf8)).status == .succeeded)
            let again = output.appendingPathComponent("again")
            let downloaded = try await AtelierProcess.run(["download", id, "-o", again.path], environment: alice)
            #expect(downloaded.status == 0, "\(downloaded.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: again.path).count == 1)

            // Failures: one line on stderr, a non-zero exit.
            let failures: [([String], [String: String], String)] = [
                (["jobs", "cancel", id], alice, "already finished"),
                (["jobs", "get", "nonsense"], alice, "does not exist"),
                (["jobs", "list"], ["ATELIER_SERVER": server.url], "no API key"),
                (["jobs", "list"], ["ATELIER_SERVER": server.url, "ATELIER_API_KEY": "atl_creator_wrong"], "not valid"),
                (["jobs", "list", "--server", "http://127.0.0.1:1"], alice, "cannot reach"),
                (["submit", "a fox", "--kind", "sculpture"], alice, "--kind"),
                (["submit", "a fox", "--width", "99999"], alice, "params.width"),
                (["creators", "list"], alice, "role admin"),
                // Bad flags too: the message, not ArgumentParser's usage lines.
                (["worker", "--slots", "999"], alice, "--slots must be from 1 to 256"),
                (["worker", "--lease-ahead-ms", "70000"], alice, "--lease-ahead-ms must be from 0 to 60000"),
                (["worker", "--lease-ahead-ms"], alice, "Missing value for '--lease-ahead-ms"),
                (["serve", "--port", "70000"], [:], "--port must be from 0 to 65535"),
                (["jobs", "list", "--no-such-flag"], alice, "--no-such-flag"),
            ]
            // --help still prints the usage, and succeeds.
            let help = try await AtelierProcess.run(["worker", "--help"])
            #expect(help.status == 0 && help.stdout.contains("--lease-ahead-ms"), "\(help.stderr)")
            for (arguments, environment, message) in failures {
                let result = try await AtelierProcess.run(arguments, environment: environment)
                #expect(result.status != 0, "\(arguments)")
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            }
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
