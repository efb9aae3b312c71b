import AtelierAPI
import AtelierBlobs
import AtelierClient
import AtelierCore
import AtelierWire
import Foundation
import NIOHTTP1
import Testing

@Suite("Jobs over HTTP")
struct JobAPITests {
    @Test("a submitted job is accepted with its location, then runs to a downloadable artifact")
    func submitRunDownload() async throws {
        try await withServer(workers: 1) { server in
            let (alice, _) = try await server.creator()
            let response = try await alice.send(.POST, "/v1/jobs", json: smallImage())
            #expect(response.status == 202)
            let accepted = try response.decode(JobResource.self)
            #expect(response.headers.first(name: "Location") == "/v1/jobs/\(accepted.id)")
            #expect(accepted.prompt == "a red fox in fresh snow")
            #expect(accepted.model == "builtin")
            #expect(accepted.params.width == 128 && accepted.params.height == 96 && accepted.params.seed == 7)
            #expect(accepted.cost > 0)

            let done = try await alice.waitForJob(accepted.id) { $0.status.isTerminal }
            #expect(done.status == .succeeded)
            #expect(done.progress == 1)
            #expect(done.attempts == 1)
            #expect(done.startedAt != nil && done.finishedAt != nil)
            let artifact = try #require(done.artifacts.first)
            #expect(artifact.contentType == "image/png")

            // With the owner's key, and through the signed URL with no key at all.
            let owned = try await alice.send(.GET, "/v1/artifacts/\(artifact.id)")
            #expect(owned.status == 200)
            let signed = try await server.client(nil).send(.GET, artifact.url)
            #expect(signed.status == 200)
            #expect(signed.headers.first(name: "Content-Type") == "image/png")
            #expect(signed.body == owned.body)
            #expect(signed.body.count == artifact.bytes)
            #expect(SHA256Hex.digest(signed.body) == artifact.sha256)
            #expect(signed.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(artifact.urlExpiresAt.timeIntervalSinceNow > 3500 && artifact.urlExpiresAt.timeIntervalSinceNow <= 3601)

            // Without a key and without a signature it is not public.
            let anonymous = try await server.client(nil).send(.GET, "/v1/artifacts/\(artifact.id)")
            #expect(anonymous.status == 401)
        }
    }

    @Test("a tampered or expired signed URL is a 403 problem")
    func signedURLTamperAndExpiry() async throws {
        try await withServer(workers: 1) { server in
            let (alice, _) = try await server.creator()
            let job = try await alice.submit(smallImage())
            let done = try await alice.waitForJob(job.id) { $0.status.isTerminal }
            let artifact = try #require(done.artifacts.first)
            let anonymous = server.client(nil)

            var url = artifact.url
            let last = url.removeLast()
            url.append(last == "0" ? "1" : "0")
            let tampered = try await anonymous.send(.GET, url)
            #expect(tampered.status == 403)
            #expect(tampered.problem?.slug == "signature-invalid")

            let stretched = artifact.url.replacingOccurrences(
                of: "expires=\(Int(artifact.urlExpiresAt.timeIntervalSince1970))",
                with: "expires=\(Int(artifact.urlExpiresAt.timeIntervalSince1970) + 86400)")
            #expect(stretched != artifact.url)
            let extended = try await anonymous.send(.GET, stretched)
            #expect(extended.status == 403)
            #expect(extended.problem?.slug == "signature-invalid")

            let unsigned = try await anonymous.send(.GET, "/v1/artifacts/\(artifact.id)?expires=99999999999")
            #expect(unsigned.status == 403)

            // A correctly signed link whose time is up.
            let secret = try Data(contentsOf: server.dataDirectory.appendingPathComponent("signing.key"))
            let signer = URLSigner(secret: secret, lifetime: 60)
            let id = try #require(ArtifactID(rawValue: artifact.id))
            let (query, _) = signer.sign(id, now: Date(timeIntervalSinceNow: -120))
            let expired = try await anonymous.send(.GET, "/v1/artifacts/\(artifact.id)?\(query)")
            #expect(expired.status == 403)
            #expect(expired.problem?.slug == "signature-expired")
            let (fresh, _) = signer.sign(id, now: Date())
            #expect(try await anonymous.send(.GET, "/v1/artifacts/\(artifact.id)?\(fresh)").status == 200)
        }
    }

    @Test("another creator's job, events, cancel and artifacts are all 404, as if they did not exist")
    func tenantIsolation() async throws {
        try await withServer(workers: 1) { server in
            let (alice, _) = try await server.creator()
            let (mallory, _) = try await server.creator()
            let job = try await alice.submit(smallImage())
            let done = try await alice.waitForJob(job.id) { $0.status.isTerminal }
            let artifact = try #require(done.artifacts.first)

            for (method, path) in [(HTTPMethod.GET, "/v1/jobs/\(job.id)"), (.GET, "/v1/jobs/\(job.id)/events"),
                                   (.POST, "/v1/jobs/\(job.id)/cancel"), (.GET, "/v1/artifacts/\(artifact.id)")] {
                let response = try await mallory.send(method, path)
                #expect(response.status == 404, "\(method.rawValue) \(path)")
                #expect(response.problem?.slug == "not-found")
            }
            let unknown = try await alice.send(.GET, "/v1/jobs/\(UUIDv7(milliseconds: 1_700_000_000_000, sequence: 1, random: 42).description)")
            #expect(unknown.status == 404)
            let mallorys = try await mallory.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self)
            #expect(mallorys.data.isEmpty)
            // The operator sees everyone's jobs.
            #expect(try await server.admin.send(.GET, "/v1/jobs/\(job.id)").status == 200)
        }
    }

    @Test("the same Idempotency-Key and body return the same job; a different body is a 422 problem")
    func idempotency() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let (bob, _) = try await server.creator()
            let first = try await alice.send(.POST, "/v1/jobs", json: smallImage(), headers: [("Idempotency-Key", "order-42")])
            #expect(first.status == 202)
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            let replay = try await alice.send(.POST, "/v1/jobs", json: smallImage(), headers: [("Idempotency-Key", "order-42")])
            #expect(replay.status == 202)
            #expect(replay.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try replay.decode(JobResource.self).id == first.decode(JobResource.self).id)

            let changed = try await alice.send(.POST, "/v1/jobs", json: smallImage("a blue fox"), headers: [("Idempotency-Key", "order-42")])
            #expect(changed.status == 422)
            #expect(changed.problem?.slug == "idempotency-key-reused")

            // Keys are per creator: bob's "order-42" is a job of his own.
            let bobs = try await bob.submit(smallImage(), idempotencyKey: "order-42")
            #expect(bobs.id != (try first.decode(JobResource.self).id))
            let listed = try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self)
            #expect(listed.data.count == 1)
        }
    }

    @Test("listing pages newest first and filters by status")
    func listing() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            var submitted: [String] = []
            for index in 0..<5 { submitted.append(try await alice.submit(smallImage("fox \(index)")).id) }
            _ = try await alice.send(.POST, "/v1/jobs/\(submitted[0])/cancel")

            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await alice.send(.GET, "/v1/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200)
                let body = try page.decode(ListBody<JobResource>.self)
                #expect(body.data.count <= 2)
                seen += body.data.map(\.id)
                cursor = body.nextCursor
            } while cursor != nil
            #expect(seen == submitted.reversed())

            let queued = try await alice.send(.GET, "/v1/jobs?status=queued").decode(ListBody<JobResource>.self)
            #expect(Set(queued.data.map(\.id)) == Set(submitted.dropFirst()))
            let canceled = try await alice.send(.GET, "/v1/jobs?status=canceled").decode(ListBody<JobResource>.self)
            #expect(canceled.data.map(\.id) == [submitted[0]])

            for (query, field) in [("status=sleeping", "status"), ("limit=0", "limit"), ("limit=101", "limit"),
                                   ("limit=ten", "limit"), ("cursor=%2F%2F", "cursor")] {
                let response = try await alice.send(.GET, "/v1/jobs?\(query)")
                #expect(response.status == 422, "\(query)")
                #expect(response.problem?.errors?.first?.field == field, "\(query)")
            }
        }
    }

    @Test("cancelling a queued job cancels it; cancelling a finished job is a 409 problem")
    func cancel() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let job = try await alice.submit(smallImage())
            let response = try await alice.send(.POST, "/v1/jobs/\(job.id)/cancel")
            #expect(response.status == 200)
            let canceled = try response.decode(JobResource.self)
            #expect(canceled.status == .canceled)
            #expect(canceled.finishedAt != nil)
            let again = try await alice.send(.POST, "/v1/jobs/\(job.id)/cancel")
            #expect(again.status == 409)
            #expect(again.problem?.slug == "job-finished")
        }
    }

    @Test("cancelling a running job flags it, the worker hears it on its next heartbeat and the job ends canceled")
    func cancelRunning() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            let lease = try #require(try await worker.lease().first)
            #expect(lease.job.id == job.id)

            let flagged = try await alice.send(.POST, "/v1/jobs/\(job.id)/cancel").decode(JobResource.self)
            #expect(flagged.status == .running)
            #expect(flagged.cancelRequested)

            let heartbeat = try await worker.heartbeat(lease, progress: 0.3).decode(HeartbeatReplyBody.self)
            #expect(heartbeat.cancelRequested)
            let outcome = try await worker.fail(lease, retryable: true).decode(FailReplyBody.self)
            #expect(outcome.outcome == "canceled")
            #expect(try await alice.job(job.id).status == .canceled)
        }
    }

    @Test("server-sent events: one per state change and progress update, ending with the terminal state")
    func events() async throws {
        try await withServer { server in
            let (alice, creator) = try await server.creator()
            let worker = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            let client = AtelierClient(server: server.url, apiKey: creator.apiKey)
            let log = EventLog()
            let reader = Task {
                for try await event in try client.events(of: job.id) { try await log.append(event.event, event.data) }
                await log.end()
            }

            #expect(await log.wait { $0.last?.event == "job.queued" })
            let lease = try #require(try await worker.lease().first)
            #expect(await log.wait { $0.last?.event == "job.running" })
            #expect(try await worker.heartbeat(lease, progress: 0.5).status == 200)
            #expect(await log.wait { $0.last?.job.progress == 0.5 })
            #expect(try await worker.finish(lease).status == 200)
            try await within(.seconds(30), "the event stream to end") { try await reader.value }

            let names = await log.names
            #expect(names == ["job.queued", "job.running", "job.running", "job.succeeded"], "\(names)")
            let last = try #require(await log.events.last)
            #expect(last.job.id == job.id)
            #expect(last.job.progress == 1)
            #expect(last.job.attempts == 1)

            // A late subscriber first receives the current state; for a finished job that is all.
            let late = EventLog()
            for try await event in try client.events(of: job.id) { try await late.append(event.event, event.data) }
            #expect(await late.names == ["job.succeeded"])
        }
    }

    @Test("the events endpoint answers with a text/event-stream")
    func eventStreamMediaType() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let job = try await alice.submit(smallImage())
            _ = try await alice.send(.POST, "/v1/jobs/\(job.id)/cancel")
            let response = try await alice.send(.GET, "/v1/jobs/\(job.id)/events")
            #expect(response.status == 200)
            #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            #expect(response.text.contains("event: job.canceled\n"), "\(response.text)")
            #expect(response.text.contains("\"status\":\"canceled\""))
        }
    }

    @Test("the admin queue view counts each creator's queued and running jobs per pool")
    func queues() async throws {
        try await withServer { server in
            let (alice, aliceResource) = try await server.creator("alice")
            let (bob, _) = try await server.creator("bob")
            let worker = try await server.workerCalls()
            for _ in 0..<3 { _ = try await alice.submit(smallImage()) }
            _ = try await bob.submit(smallImage())
            _ = try await bob.submit(CreateJobBody(kind: .video, prompt: "a short film",
                                                   params: ParamsBody(width: 64, height: 64, format: .gif, frames: 4)))
            let leases = try await worker.lease(limit: 1)
            #expect(leases.count == 1)

            let response = try await server.admin.send(.GET, "/v1/admin/queues")
            #expect(response.status == 200)
            let pools = try response.decode(ListBody<PoolQueueResource>.self).data
            let image = try #require(pools.first { $0.pool == "image" })
            let video = try #require(pools.first { $0.pool == "video" })
            #expect(image.queued + image.running == 4)
            #expect(image.running == 1)
            #expect(image.workersOnline == 1)
            #expect(image.oldestQueuedAgeSeconds != nil)
            let aliceRow = try #require(image.creators.first { $0.name == "alice" })
            #expect(aliceRow.creatorID == aliceResource.id)
            #expect(aliceRow.queued + aliceRow.running == 3)
            #expect(image.creators.first { $0.name == "bob" }.map { $0.queued + $0.running } == 1)
            #expect(video.queued == 1)
            #expect(video.creators.map(\.name) == ["bob"])

            #expect(try await alice.send(.GET, "/v1/admin/queues").status == 403)
        }
    }
}
