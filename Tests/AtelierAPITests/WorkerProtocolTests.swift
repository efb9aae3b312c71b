import AtelierBlobs
import AtelierWire
import Foundation
import Testing

@Suite("The worker protocol over HTTP")
struct WorkerProtocolTests {
    @Test("a long-poll lease wakes as soon as work arrives")
    func longPollWakes() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let waiting = Task { try await worker.lease(wait: 20) }
            try await Task.sleep(for: .milliseconds(200))
            let job = try await alice.submit(smallImage())
            let leases = try await within(.seconds(10), "the long-poll to wake") { try await waiting.value }
            #expect(leases.map(\.job.id) == [job.id])
            #expect(leases.first?.job.prompt == job.prompt)
            #expect(leases.first?.job.attempt == 1)
            // With nothing left, a zero wait answers at once with no leases.
            #expect(try await worker.lease(wait: 0).isEmpty)
        }
    }

    @Test("only the holder of the current fence may heartbeat, upload, complete, fail or release")
    func fencing() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let first = try await server.workerCalls()
            let second = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            let stale = try #require(try await first.lease().first)

            // Another worker cannot act on a lease it does not hold.
            for response in [try await second.heartbeat(stale, progress: 0.5), try await second.upload(stale, name: "image.png", data: Data([1])),
                                 try await second.complete(stale, artifacts: []), try await second.release(stale)] {
                #expect(response.status == 409)
                #expect(response.problem?.slug == "lease-lost")
            }

            // The holder hands the lease back (as a lease that expired would be); the job is
            // leased again under a new fence. (No short leases here: a stalled machine must not
            // expire the second lease too. Expiry itself is covered by the store contract suite
            // and the SIGKILLed worker process test.)
            #expect(try await first.release(stale).status == 204)
            let renewed = try await alice.job(job.id)
            #expect(renewed.status == .queued)
            #expect(renewed.attempts == 0)
            let current = try #require(try await second.lease().first)
            #expect(current.fence > stale.fence)

            for response in [try await first.heartbeat(stale, progress: 0.9), try await first.upload(stale, name: "x.png", data: Data([1])),
                             try await first.fail(stale, retryable: false)] {
                #expect(response.status == 409)
                #expect(response.problem?.slug == "lease-lost")
            }
            var wrongFence = current
            wrongFence.fence = stale.fence
            #expect(try await second.heartbeat(wrongFence, progress: 0.1).status == 409)

            #expect(try await second.finish(current).status == 200)
            let done = try await alice.job(job.id)
            #expect(done.status == .succeeded)
            #expect(done.attempts == 1)
            #expect(done.artifacts.count == 1)
            // Completing twice is refused: the job is finished once.
            #expect(try await second.complete(current, artifacts: []).status == 409)
        }
    }

    @Test("the server trusts only the bytes it stored: a wrong digest or a missing upload is refused")
    func completionChecksUploads() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            let lease = try #require(try await worker.lease().first)
            let bytes = Data("pixels".utf8)
            let uploaded = try await worker.upload(lease, name: "image.png", data: bytes)
            #expect(uploaded.status == 201)
            var body = try uploaded.decode(UploadedArtifactBody.self)
            #expect(body.sha256 == SHA256Hex.digest(bytes))
            #expect(body.bytes == bytes.count)

            var lying = body
            lying.sha256 = SHA256Hex.digest(Data("other".utf8))
            let mismatch = try await worker.complete(lease, artifacts: [lying])
            #expect(mismatch.status == 422)
            #expect(mismatch.problem?.errors?.first?.field == "artifacts[0]")

            let ghost = UploadedArtifactBody(name: "never.png", contentType: "image/png", bytes: 1, sha256: body.sha256)
            let missing = try await worker.complete(lease, artifacts: [ghost])
            #expect(missing.status == 422)

            let badName = try await worker.upload(lease, name: "..", data: bytes)
            #expect(badName.status == 422 || badName.status == 404)
            let noFence = try await worker.api.send(.PUT, "/v1/worker/jobs/\(lease.job.id)/artifacts/image.png", body: bytes,
                                                    contentType: "image/png")
            #expect(noFence.status == 422)

            // Nothing of the refused calls stuck; the honest completion goes through.
            #expect(try await alice.job(job.id).status == .running)
            body.contentType = "image/png"
            #expect(try await worker.complete(lease, artifacts: [body]).status == 200)
            let done = try await alice.job(job.id)
            #expect(done.artifacts.map(\.sha256) == [SHA256Hex.digest(bytes)])
        }
    }

    @Test("fail with retryable schedules a retry; without it the job fails with the worker's error")
    func failures() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            let lease = try #require(try await worker.lease().first)
            let retry = try await worker.fail(lease, retryable: true).decode(FailReplyBody.self)
            #expect(retry.outcome == "retrying")
            #expect(retry.retryAt != nil)
            #expect(try await alice.job(job.id).status == .queued)

            let other = try await alice.submit(smallImage("another"))
            let leases = try await worker.lease(limit: 2)
            let second = try #require(leases.first { $0.job.id == other.id })
            let final = try await worker.fail(second, retryable: false).decode(FailReplyBody.self)
            #expect(final.outcome == "failed")
            let failed = try await alice.job(other.id)
            #expect(failed.status == .failed)
            #expect(failed.error?.code == "gpu_busy")
        }
    }

    @Test("a released lease puts the job back at once")
    func release() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            let lease = try #require(try await worker.lease().first)
            #expect(try await worker.release(lease).status == 204)
            #expect(try await alice.job(job.id).status == .queued)
            let again = try #require(try await worker.lease().first)
            #expect(again.job.id == job.id)
            #expect(again.fence > lease.fence)
        }
    }
}
