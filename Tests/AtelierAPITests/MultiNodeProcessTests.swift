import AtelierLedger
import AtelierTestSupport
import AtelierWire
import Foundation
import Testing

/// The distributed platform as operators run it: `atelier serve` processes on one PostgreSQL
/// database and one bucket, `atelier worker` processes attached to them, and processes dying
/// with SIGKILL in the middle of the work.
@Suite("Many nodes, as processes")
struct MultiNodeProcessTests {
    static let adminKey = "atl_admin_multinode00000000000000000000000"
    /// Nodes sharing a database share the ledger's signer key.
    static let ledgerKey = try! NoteSigner(name: "atelier.local/ledger")

    /// Starts `atelier serve` on the shared database and bucket; returns it and its URL.
    private func node(database: String, prefix: String, s3: ThrowawayS3, signing: String) async throws -> (AtelierProcess, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-node-\(UUID().uuidString)")
        let child = try AtelierProcess(
            ["serve", "--data-dir", directory.path, "--port", "0", "--workers", "0", "--lease-seconds", "2",
             "--database", database, "--storage", "s3://\(s3.info.bucket)/\(prefix)", "--log-level", "error"],
            environment: s3.environment.merging(["ATELIER_ADMIN_KEY": Self.adminKey, "ATELIER_SIGNING_KEY": signing,
                                                      "ATELIER_LEDGER_KEY": Self.ledgerKey.encoded,
                                                      // A load test: it submits as fast as the nodes take it.
                                                      "ATELIER_RATE_LIMITS": "off"]) { $1 })
        let output = try await child.waitForOutput("Atelier listening on ")
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("Atelier listening on ") })
        return (child, String(try #require(line.split(separator: " ").first { $0.hasPrefix("http://") })))
    }

    @Test("2 nodes, 4 workers, 3 weighted creators, 2,000 jobs; a worker and a node SIGKILLed: every job succeeds once, shares hold",
          .timeLimit(.minutes(10)))
    func twoNodesSurviveKills() async throws {
        let postgres = try await ThrowawayPostgres.shared()
        let database = try await postgres.createDatabase()
        let s3 = try await ThrowawayS3.shared()
        let prefix = "multinode-\(UUID().uuidString.prefix(8).lowercased())"
        let signing = "multinode-signing-secret-\(UUID().uuidString)"
        let (nodeA, urlA) = try await node(database: database, prefix: prefix, s3: s3, signing: signing)
        let (nodeB, urlB) = try await node(database: database, prefix: prefix, s3: s3, signing: signing)
        var children = [nodeA, nodeB]
        defer { for child in children where child.process.isRunning { child.signal(SIGKILL) } }

        // Three creators with weights 1, 2 and 3, made through node A.
        let adminA = API(url: urlA, key: Self.adminKey)
        var creators: [(weight: Int, key: String, id: String)] = []
        for weight in 1...3 {
            let response = try await adminA.send(.POST, "/v1/admin/creators",
                                                 json: CreateCreatorBody(name: "creator-\(weight)", weight: weight,
                                                                                   credits: 1_000_000))
            let creator = try response.decode(CreatorResource.self)
            creators.append((weight, try #require(creator.apiKey), creator.id))
        }
        let workerKey = try #require(try await adminA.send(.POST, "/v1/admin/workers", json: CreateWorkerBody(name: "gpu-farm"))
            .decode(WorkerResource.self).apiKey)

        // 2,000 jobs, round-robin over creators and over the two nodes, all queued before any worker starts.
        let total = 2_000
        let submitters = creators
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    for index in stride(from: lane, to: total, by: 8) {
                        let creator = submitters[index % 3]
                        let api = API(url: index % 2 == 0 ? urlA : urlB, key: creator.key)
                        let body = CreateJobBody(kind: .image, prompt: "tile \(index)",
                                                 params: ParamsBody(width: 64, height: 64, seed: UInt32(index)))
                        let response = try await api.send(.POST, "/v1/jobs", json: body)
                        #expect(response.status == 202, "\(response.text)")
                    }
                }
            }
            try await group.waitForAll()
        }

        // Two workers on each node.
        var workers: [AtelierProcess] = []
        for url in [urlA, urlA, urlB, urlB] {
            workers.append(try AtelierProcess(["worker", "--server", url, "--pool", "image", "--slots", "1",
                                               "--log-level", "error"], environment: ["ATELIER_API_KEY": workerKey]))
        }
        children += workers

        func remaining() async throws -> (queued: Int, running: Int) {
            let pools = try await adminA.send(.GET, "/v1/admin/queues").decode(ListBody<PoolQueueResource>.self).data
            let image = try #require(pools.first { $0.pool == "image" })
            return (image.queued, image.running)
        }
        func waitUntilDone(below: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                let left = try await remaining()
                if left.queued + left.running <= below { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("the work did not get below \(below) jobs left in time")
        }

        try await waitUntilDone(below: total - 300)
        workers[0].signal(SIGKILL)  // a worker on node A, mid-job
        try await waitUntilDone(below: total - 700)
        nodeB.signal(SIGKILL)  // node B, with its two workers' leases in flight
        try await waitUntilDone(below: 0)
        let left = try await remaining()
        #expect(left.queued == 0 && left.running == 0, "leases left behind: \(left)")

        // Every job succeeded exactly once: one attempt each, except those whose worker or
        // node died under them, which ran again after their lease expired.
        var jobs: [JobResource] = []
        var owner: [String: String] = [:]
        for creator in creators {
            let api = API(url: urlA, key: creator.key)
            var cursor: String?
            repeat {
                let page = try await api.send(.GET, "/v1/jobs?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    .decode(ListBody<JobResource>.self)
                jobs += page.data
                for job in page.data { owner[job.id] = creator.id }
                cursor = page.nextCursor
            } while cursor != nil
        }
        #expect(jobs.count == total)
        #expect(Set(jobs.map(\.id)).count == total)
        #expect(jobs.allSatisfy { $0.status == .succeeded }, "\(Dictionary(grouping: jobs, by: \.status).mapValues(\.count))")
        #expect(jobs.allSatisfy { $0.artifacts.count == 1 })
        let retried = jobs.filter { $0.attempts > 1 }.count
        #expect(retried <= 8, "\(retried) jobs needed a second attempt; only the killed processes' leases should")

        // Fairness while everyone was backlogged: of the first 900 jobs started (creator 3
        // had 667 queued and would use 450 of them), shares follow the weights 1 : 2 : 3.
        let started = jobs.sorted { ($0.startedAt ?? .distantFuture) < ($1.startedAt ?? .distantFuture) }.prefix(900)
        for creator in creators {
            let share = Double(started.filter { owner[$0.id] == creator.id }.count) / Double(started.count)
            let expected = Double(creator.weight) / 6
            #expect(abs(share - expected) < 0.05, "creator of weight \(creator.weight): share \(share), expected \(expected)")
        }

        // The chain of title: both nodes sequenced into one log, with a node killed mid-way;
        // once a checkpoint covers every job, a full audit through node A finds 2,000 entries.
        let checkpointDeadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < checkpointDeadline {
            let note = try await API(url: urlA, key: nil).send(.GET, "/v1/ledger/checkpoint").text
            if (try? Checkpoint.open(note, verifier: Self.ledgerKey.verifier))?.size == Int64(total) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let audit = try await AtelierProcess.run(["ledger", "verify", "--server", urlA, "--key", Self.ledgerKey.verifier.encoded])
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(audit.stdout.contains("ledger OK: \(total) entries"), "\(audit.stdout)")

        for worker in workers where worker.process.isRunning { worker.signal(SIGTERM) }
        nodeA.signal(SIGTERM)
        #expect(await nodeA.waitForExit(timeout: .seconds(30)) == 0)
    }
}
