import AtelierAPI
import AtelierCore
import AtelierStore
import AtelierWire
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing

@Suite("Job document cache")
struct JobDocumentCacheTests {
    static let alice = CreatorID(rawValue: "cr_alice")!
    static let bob = CreatorID(rawValue: "cr_bob")!
    static let job = JobID(rawValue: "job_cached")!

    @Test("a document is served until the next write, and only to its owner or an operator")
    func servedUntilNextWrite() {
        let writes = WriteGeneration()
        let cache = JobDocumentCache(writes: writes)
        let body = ByteBuffer(string: #"{"id":"job_cached"}"#)
        cache.keep(body, for: Self.job, owner: Self.alice, readAt: cache.generation)
        #expect(cache.document(for: Self.job, scope: .creator(Self.alice)) == body)
        #expect(cache.document(for: Self.job, scope: .operator) == body)
        #expect(cache.document(for: Self.job, scope: .creator(Self.bob)) == nil)

        writes.advance()
        #expect(cache.document(for: Self.job, scope: .creator(Self.alice)) == nil)
        #expect(cache.count == 0)
    }

    @Test("a document read before a write that committed meanwhile is not kept")
    func readBeforeWriteIsDropped() {
        let writes = WriteGeneration()
        let cache = JobDocumentCache(writes: writes)
        let readAt = cache.generation
        writes.advance() // a commit lands while the read was in flight
        cache.keep(ByteBuffer(string: "old"), for: Self.job, owner: Self.alice, readAt: readAt)
        #expect(cache.document(for: Self.job, scope: .operator) == nil)

        // A fresh read keeps, and drops what older counts left behind.
        let fresh = cache.generation
        cache.keep(ByteBuffer(string: "new"), for: Self.job, owner: Self.alice, readAt: fresh)
        #expect(cache.document(for: Self.job, scope: .operator) == ByteBuffer(string: "new"))
        #expect(cache.count == 1)
    }

    @Test("the cache never holds more than its capacity")
    func bounded() {
        let cache = JobDocumentCache(writes: WriteGeneration(), capacity: 8)
        for index in 0..<20 {
            let id = JobID(rawValue: "job_\(index)")!
            cache.keep(ByteBuffer(string: "\(index)"), for: id, owner: Self.alice, readAt: cache.generation)
            #expect(cache.count <= 8)
            #expect(cache.document(for: id, scope: .operator) == ByteBuffer(string: "\(index)"))
        }
    }

    @Test("every write of the SQLite engine that changes a row advances its count")
    func sqliteCountsWrites() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-gen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("atelier.sqlite").path)
        let writes = try #require(store.writeGeneration)
        let before = writes.current
        try await store.createCreator(Creator(id: Self.alice, name: "alice", weight: 1, createdAt: Date()))
        #expect(writes.current > before)
        let afterCreate = writes.current
        _ = try await store.job(id: Self.job, scope: .operator)
        #expect(writes.current == afterCreate, "a read is not a write")
        _ = try await store.reclaimExpiredLeases(now: Date())
        #expect(writes.current == afterCreate, "a write that changed nothing is not counted")
        await store.shutdown()
    }

    @Test("GET /v1/jobs/{id} is cached between writes and fresh after every change of the job")
    func freshAfterEveryChange() async throws {
        try await withServer(workers: 0) { server in
            let cache = try #require(server.server.services.jobDocuments)
            let (alice, _) = try await server.creator()
            let (bob, _) = try await server.creator()
            let worker = try await server.workerCalls()

            let submitted = try await alice.submit(smallImage())
            let first = try await alice.send(.GET, "/v1/jobs/\(submitted.id)")
            let second = try await alice.send(.GET, "/v1/jobs/\(submitted.id)")
            #expect(first.status == 200 && second.status == 200)
            #expect(try first.decode(JobResource.self).status == .queued)
            #expect(try second.decode(JobResource.self).id == submitted.id)
            #expect(cache.count == 1, "the document is kept for the next GET")
            #expect(cache.document(for: JobID(rawValue: submitted.id)!, scope: .operator).map { Data(buffer: $0) } == second.body,
                    "what the second GET answered is what the cache holds")

            // Another creator's key still gets a 404, cached document or not.
            #expect(try await bob.send(.GET, "/v1/jobs/\(submitted.id)").status == 404)

            let lease = try #require(try await worker.lease().first)
            let running = try await alice.job(submitted.id)
            #expect(running.status == .running && running.attempts == 1 && running.startedAt != nil)

            #expect(try await worker.heartbeat(lease, progress: 0.5).status == 200)
            #expect(try await alice.job(submitted.id).progress == 0.5)
            #expect(try await worker.heartbeat(lease, progress: 0.75).status == 200)
            #expect(try await alice.job(submitted.id).progress == 0.75)

            #expect(try await worker.finish(lease).status == 200)
            let done = try await alice.job(submitted.id)
            #expect(done.status == .succeeded && done.artifacts.count == 1)
            #expect(cache.count == 0, "a succeeded job's signed links are made per request")

            // Cancelled while queued, and flagged while running.
            let queued = try await alice.submit(smallImage("a lighthouse at dusk"))
            #expect(try await alice.job(queued.id).status == .queued)
            #expect(try await alice.send(.POST, "/v1/jobs/\(queued.id)/cancel").status == 200)
            #expect(try await alice.job(queued.id).status == .canceled)

            let busy = try await alice.submit(smallImage("a harbour in fog"))
            _ = try #require(try await worker.lease().first)
            #expect(try await alice.job(busy.id).cancelRequested == false)
            #expect(try await alice.send(.POST, "/v1/jobs/\(busy.id)/cancel").status == 200)
            #expect(try await alice.job(busy.id).cancelRequested)
        }
    }

    @Test("a lease that runs out shows up in GET although the job was cached while running")
    func freshAfterLeaseExpiry() async throws {
        try await withServer(workers: 0, leaseDuration: 5) { server in
            let (alice, _) = try await server.creator()
            let worker = try await server.workerCalls()
            let job = try await alice.submit(smallImage())
            _ = try #require(try await worker.lease().first)
            #expect(try await alice.job(job.id).status == .running)
            #expect(try await alice.job(job.id).status == .running)
            let requeued = try await alice.waitForJob(job.id, timeout: .seconds(30)) { $0.status != .running }
            #expect(requeued.status == .queued && requeued.attempts == 1)
        }
    }
}
