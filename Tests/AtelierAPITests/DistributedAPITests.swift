import AtelierAPI
import AtelierLedger
import AtelierMedia
import AtelierPlanning
import AtelierBlobs
import AtelierClient
import AtelierTestSupport
import AtelierWire
import Crypto
import Foundation
import Testing

/// The platform in distributed mode over real HTTP: PostgreSQL for the store, a real
/// S3-compatible server for artifacts, several server nodes sharing both.
@Suite("Distributed mode: PostgreSQL, S3 and many nodes")
struct DistributedAPITests {
    /// Two nodes on one database and one bucket: node A runs the workers, node B none.
    private func withTwoNodes(database: String? = nil, bucket: ThrowawayS3.Kind = .moto, presign: Bool = false,
                              workersOnA: Int = 2, _ body: (TestServer, TestServer) async throws -> Void) async throws {
        let postgres = try await ThrowawayPostgres.shared()
        let url: String
        if let database { url = database } else { url = try await postgres.createDatabase() }
        let s3 = try await ThrowawayS3.shared(bucket)
        let prefix = "nodes-\(UUID().uuidString.prefix(8).lowercased())"
        let signing = "shared-signing-secret-\(UUID().uuidString)"
        let ledgerKey = try NoteSigner(name: "atelier.local/ledger").encoded
        func configure(_ configuration: inout ServerConfiguration) {
            configuration.ledgerKey = ledgerKey
            configuration.databaseURL = url
            configuration.storage = .s3(bucket: s3.info.bucket, prefix: prefix)
            configuration.environment = s3.environment.merging(["ATELIER_S3_PRESIGN": presign ? "1" : "0"]) { $1 }
            configuration.signingKey = signing
        }
        let a = try await TestServer.start(workers: workersOnA, configure: configure)
        let b = try await TestServer.start(workers: 0, configure: configure)
        do {
            try await body(a, b)
        } catch {
            await b.stop()
            await a.stop()
            throw error
        }
        await b.stop()
        await a.stop()
    }

    @Test("a job submitted on one node is run, read, streamed and downloaded through another")
    func jobsCrossNodes() async throws {
        try await withTwoNodes { a, b in
            let (aliceOnB, creator) = try await b.creator()
            let aliceOnA = a.client(creator.apiKey)
            let submitted = try await aliceOnB.submit(smallImage("a lighthouse at dusk"))

            // Events through node B while node A's workers run it.
            let log = EventLog()
            let client = AtelierClient(server: b.url, apiKey: creator.apiKey)
            let reader = Task {
                for try await event in try client.events(of: submitted.id) { try await log.append(event.event, event.data) }
            }
            defer { reader.cancel() }
            let done = try await aliceOnA.waitForJob(submitted.id) { $0.status == .succeeded }
            try await within(.seconds(30), "the event stream on node B to end") { try await reader.value }
            #expect(await log.names.last == "job.succeeded")

            // The artifact lives in the bucket under the tenant prefix, and node B serves it
            // through a URL node A signed.
            let artifact = try #require(done.artifacts.first)
            #expect(artifact.url.hasPrefix(a.url))
            let signedOnAServedByB = artifact.url.replacingOccurrences(of: a.url, with: b.url)
            let download = try await b.client(nil).send(.GET, signedOnAServedByB)
            #expect(download.status == 200)
            #expect(SHA256Hex.digest(download.body) == artifact.sha256)
            #expect(download.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test("a reference upload and a film on PostgreSQL and S3: uploaded on one node, planned and rendered through the other")
    func filmsAndUploadsCrossNodes() async throws {
        let path = ProcessInfo.processInfo.environment["PATH"]
        let ffmpeg = try #require(FFmpeg.locate(searchPath: path))
        let ffprobe = try #require(FFprobe.locate(besides: ffmpeg, searchPath: path))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-nodes-film-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = directory.appendingPathComponent("night.png")
        try await ffmpeg.run(["-f", "lavfi", "-i", "color=c=0x080A18:size=360x640", "-frames:v", "1", reference.path])
        try await withTwoNodes { a, b in
            let (aliceOnB, creator) = try await b.creator()
            let aliceOnA = a.client(creator.apiKey)
            let created = try await aliceOnB.send(.POST, "/v1/uploads", body: try Data(contentsOf: reference),
                                                  contentType: "application/octet-stream")
            #expect(created.status == 201, "\(created.text)")
            let upload = try created.decode(UploadResource.self)
            #expect(try await aliceOnA.send(.GET, "/v1/uploads/\(upload.id)").decode(UploadResource.self) == upload)
            let plan = try await aliceOnA.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a harbour", inputs: [upload.id]))
                .decode(PlanResult.self)
            #expect(plan.creativeDirection.aspect == "9:16" && plan.creativeDirection.timeOfDay == "night")

            let film = try await aliceOnB.submit(CreateJobBody(
                kind: .video, prompt: "A harbour at dusk. Boats return at night",
                params: ParamsBody(width: 192, height: 108, format: .mp4, fps: 8, durationS: 2, preview: false)))
            let done = try await aliceOnA.waitForJob(film.id, timeout: .seconds(120)) { $0.status.isTerminal }
            #expect(done.status == .succeeded, "\(String(describing: done.error))")
            let artifact = try #require(done.artifacts.first { $0.name == "film.mp4" })
            let download = try await b.client(nil).send(.GET, artifact.url.replacingOccurrences(of: a.url, with: b.url))
            #expect(download.status == 200)
            #expect(SHA256Hex.digest(download.body) == artifact.sha256)
            let file = directory.appendingPathComponent("film.mp4")
            try download.body.write(to: file)
            let probe = try await ffprobe.probe(file)
            #expect(probe.codec == "h264" && probe.width == 192 && probe.height == 108)
            #expect(abs(probe.duration - 2) <= 0.1)
        }
    }

    /// No in-process workers here, so whether a job is queued or running is the test's to decide.
    @Test("a cancel sent to one node ends a queued job at once and reaches a worker leasing through another")
    func cancelCrossesNodes() async throws {
        try await withTwoNodes(workersOnA: 0) { a, b in
            let (aliceOnB, creator) = try await b.creator()
            let aliceOnA = a.client(creator.apiKey)
            let worker = try await a.workerCalls()

            let running = try await aliceOnA.submit(smallImage("a lighthouse at dusk"))
            let lease = try #require(try await worker.lease().first)
            #expect(lease.job.id == running.id)
            let queued = try await aliceOnA.submit(smallImage("a second lighthouse"))

            let cancelQueued = try await aliceOnB.send(.POST, "/v1/jobs/\(queued.id)/cancel")
            #expect(cancelQueued.status == 200)
            #expect(try cancelQueued.decode(JobResource.self).status == .canceled)
            #expect(try await aliceOnA.job(queued.id).status == .canceled)

            let flagged = try await aliceOnB.send(.POST, "/v1/jobs/\(running.id)/cancel")
            #expect(flagged.status == 200)
            #expect(try flagged.decode(JobResource.self).cancelRequested)
            let heartbeat = try await worker.heartbeat(lease, progress: 0.5).decode(HeartbeatReplyBody.self)
            #expect(heartbeat.cancelRequested)
            let outcome = try await worker.fail(lease, retryable: true).decode(FailReplyBody.self)
            #expect(outcome.outcome == "canceled")
            #expect(try await aliceOnB.job(running.id).status == .canceled)
            #expect(try await worker.lease().isEmpty)
        }
    }

    @Test("with presigning on, artifact URLs point straight at the bucket, which opens the artifact with them and nothing else")
    func presignedArtifactURLs() async throws {
        let s3 = try await ThrowawayS3.shared(.checkingPresignedURLs)
        try await withTwoNodes(bucket: .checkingPresignedURLs, presign: true) { a, b in
            let (alice, creator) = try await a.creator()
            let job = try await alice.submit(smallImage())
            let done = try await alice.waitForJob(job.id) { $0.status == .succeeded }
            let artifact = try #require(done.artifacts.first)
            #expect(artifact.url.hasPrefix("\(s3.info.endpoint)/\(s3.info.bucket)/nodes-"))
            #expect(artifact.url.contains("/\(creator.id)/\(done.id)/"))
            #expect(artifact.url.contains("X-Amz-Signature="))

            // The bucket checks the signature: the creator gets the artifact's bytes from it,
            // with no key, and the URL node B hands out works the same.
            let direct = try await plainGet(artifact.url)
            #expect(direct.status == 200)
            #expect(SHA256Hex.digest(direct.body) == artifact.sha256)
            let throughB = try #require(try await b.client(creator.apiKey).job(done.id).artifacts.first)
            #expect(try await plainGet(throughB.url).status == 200)
            // The URL lives as long as the resource says, and no longer.
            let lifetime = artifact.urlExpiresAt.timeIntervalSinceNow
            #expect(lifetime > 60 && lifetime <= 3600 * 24 * 7, "\(lifetime)")
            let query = try #require(URLComponents(string: artifact.url)?.queryItems)
            let expires = try #require(query.first { $0.name == "X-Amz-Expires" }?.value.flatMap(Int.init))
            #expect(abs(Double(expires) - lifetime) < 60, "X-Amz-Expires \(expires) vs url_expires_at in \(lifetime) s")
            // Pointed at another object, it opens nothing.
            let elsewhere = artifact.url.replacingOccurrences(of: "/\(done.id)/", with: "/\(UUID().uuidString.lowercased())/")
            #expect(try await plainGet(elsewhere).status == 403)
        }
    }

    @Test("PostgreSQL restarting under the server: 503s meanwhile, then it carries on with nothing lost", .timeLimit(.minutes(3)))
    func databaseRestart() async throws {
        let postgres = try await ThrowawayPostgres.dedicated()
        let url = try await postgres.createDatabase("restart")
        try await withServer(workers: 2, leaseDuration: 3, configure: { $0.databaseURL = url }) { server in
            let (alice, _) = try await server.creator()
            var accepted: [String] = []
            for index in 0..<12 {
                accepted.append(try await alice.submit(smallImage("a harbour, take \(index)", seed: UInt32(index))).id)
            }

            try await postgres.crash()
            let refused = try await alice.send(.POST, "/v1/jobs", json: smallImage("while the database is down"))
            #expect(refused.status == 503)
            #expect(refused.problem?.type == Problem.typeURI("database-unavailable"))
            #expect(refused.headers.first(name: "Retry-After") != nil)
            #expect(try await alice.send(.GET, "/v1/jobs/\(accepted[0])").status == 503)
            #expect(try await server.client(nil).send(.GET, "/v1/health").status == 200)

            try await postgres.start()
            var resumed: String?
            let deadline = ContinuousClock.now + .seconds(60)
            while resumed == nil, ContinuousClock.now < deadline {
                let response = try await alice.send(.POST, "/v1/jobs", json: smallImage("after the restart"))
                if response.status == 202 { resumed = try response.decode(JobResource.self).id }
                else {
                    #expect(response.status == 503, "\(response.text)")
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            let after = try #require(resumed)
            accepted.append(after)

            var listed: [JobResource] = []
            let finish = ContinuousClock.now + .seconds(90)
            repeat {
                try await Task.sleep(for: .milliseconds(200))
                let page = try await alice.send(.GET, "/v1/jobs?limit=100")
                if page.status == 200 { listed = try page.decode(ListBody<JobResource>.self).data }
            } while (listed.isEmpty || listed.contains(where: { !$0.status.isTerminal })) && ContinuousClock.now < finish
            #expect(Set(listed.map(\.id)) == Set(accepted))
            for job in listed {
                #expect(job.status == .succeeded, "\(job.id): \(job.status) attempt \(job.attempts) \(job.error?.message ?? "")")
            }
        }
        try await postgres.crash()
    }
}
