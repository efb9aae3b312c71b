import AtelierCore
import AtelierWire
import Foundation
import Synchronization
import Testing

/// Every credit accounted for exactly once under concurrency and across crashes: afterwards,
/// each creator's log and account are recomputed over HTTP and must agree job by job.
@Suite struct CreditStressTests {
    @Test("10 creators, 1,000 submissions from 8 clients at once with cancels, failures, retries and a killed worker: every credit once")
    func stress() async throws {
        try await withServer(workers: 2, leaseDuration: 2, configure: { $0.rateLimits = .off }) { server in
            try await Self.stress(server)
        }
    }

    private static func stress(_ server: TestServer) async throws {
        do {
            var creators: [(api: API, id: String)] = []
            for index in 0..<10 {
                let (api, creator) = try await server.creator("stress-\(index)", credits: 100)
                creators.append((api, creator.id))
            }
            let done = Shared(false)
            let chaos = try await server.workerCalls("chaos")
            let (_, remoteWorker) = try await server.worker("doomed")
            let chaosTask = Task { await chaosWorker(chaos, until: done) }
            // A real worker process, killed while it holds leases.
            let doomed = try AtelierProcess(["worker", "--server", server.url, "--pool", "image", "--slots", "2",
                                             "--log-level", "error"], environment: ["ATELIER_API_KEY": remoteWorker.apiKey ?? ""])
            defer { if doomed.process.isRunning { doomed.signal(SIGKILL) } }
            let killer = Task { await kill(doomed, onceBusy: server.admin) }
            let (submitted, refused, other) = await submit(1_000, by: creators)
            await killer.value
            #expect(remoteWorker.name == "doomed")
            #expect(other.isEmpty, "\(other.count) submissions went wrong: \(Set(other).prefix(5))")
            #expect(submitted.values.reduce(0) { $0 + $1.count } + refused == 1_000)
            #expect(refused > 0, "budgets never ran dry; the 402 path went untested")

            // Everything ends: jobs left by the dead worker and the chaos worker come back.
            let deadline = ContinuousClock.now + .seconds(240)
            while true {
                let queued = try await server.admin.send(.GET, "/v1/jobs?status=queued&limit=1")
                let running = try await server.admin.send(.GET, "/v1/jobs?status=running&limit=1")
                let open = try queued.decode(ListBody<JobResource>.self).data.count + running.decode(ListBody<JobResource>.self).data.count
                if open == 0 { break }
                try #require(ContinuousClock.now < deadline, "jobs were left unfinished")
                try await Task.sleep(for: .milliseconds(200))
            }
            done.value = true
            await chaosTask.value

            var statuses: [JobStatus: Int] = [:]
            for creator in creators {
                let jobs = try await CreditAudit.jobs(creator.api)
                #expect(Set(jobs.map(\.id)) == Set(submitted[creator.id] ?? []), "only jobs that got a 202 exist")
                for job in jobs { statuses[job.status, default: 0] += 1 }
                let account = try await CreditAudit.check(server.admin, creator: creator.id, jobs: jobs)
                #expect(account.reserved == 0, "nothing is held once every job has ended")
            }
            for status in [JobStatus.succeeded, .failed, .canceled] {
                #expect(statuses[status, default: 0] > 0, "no job ended \(status): \(statuses)")
            }
        }
    }

    /// A worker that completes, fails (retryably or for good), reports progress and obeys
    /// cancellation, or walks away from its lease as if it had died.
    private static func chaosWorker(_ chaos: WorkerCalls, until done: Shared<Bool>) async {
        var random = SplitMix64(seed: 6)
        while !done.value {
            for lease in (try? await chaos.lease(limit: 4, wait: 0.2)) ?? [] {
                switch random.next() % 10 {
                case 0, 1, 2: await finish(lease, chaos)
                case 3, 4: _ = try? await chaos.fail(lease, retryable: true)
                case 5: _ = try? await chaos.fail(lease, retryable: false)
                case 6: break  // walked away: the lease expires and the job is retried
                default:
                    let beat = try? await chaos.heartbeat(lease, progress: 0.5)
                    if (try? beat?.decode(HeartbeatReplyBody.self).cancelRequested) == true {
                        _ = try? await chaos.fail(lease, retryable: false)
                    } else {
                        await finish(lease, chaos)
                    }
                }
            }
        }
    }

    /// Uploads a result and completes; a lease lost meanwhile (expired, say) is fine.
    private static func finish(_ lease: LeaseBody, _ chaos: WorkerCalls) async {
        guard let uploaded = try? await chaos.upload(lease, name: "image.png", data: Data("not really a png".utf8)),
              let artifact = try? uploaded.decode(UploadedArtifactBody.self) else { return }
        _ = try? await chaos.complete(lease, artifacts: [artifact])
    }

    /// SIGKILLs `worker` as soon as some job runs.
    private static func kill(_ worker: AtelierProcess, onceBusy admin: API) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let running = try? await admin.send(.GET, "/v1/jobs?status=running&limit=100").decode(ListBody<JobResource>.self).data
            if running?.isEmpty == false { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        worker.signal(SIGKILL)
    }

    private enum Submission: Sendable {
        case accepted(creator: String, job: String)
        case refused
        case other(String)
    }

    private static func submitOne(_ index: Int, by creator: (api: API, id: String)) async -> Submission {
        let side = index % 7 == 0 ? 1024 : 128
        let body = CreateJobBody(kind: .image, prompt: "a lighthouse at dusk \(index)",
                                 params: ParamsBody(width: side, height: side, seed: UInt32(index)))
        let response: APIResponse
        do { response = try await creator.api.send(.POST, "/v1/jobs", json: body) } catch { return .other("\(error)") }
        if response.status == 402 { return .refused }
        guard response.status == 202, let job = try? response.decode(JobResource.self) else {
            return .other("\(response.status): \(response.text)")
        }
        if index % 5 == 0 { _ = try? await creator.api.send(.POST, "/v1/jobs/\(job.id)/cancel") }
        return .accepted(creator: creator.id, job: job.id)
    }

    /// `count` submissions at once, round-robin over `creators`, one in seven dear enough to run
    /// budgets dry; one accepted job in five is cancelled at once.
    private static func submit(_ count: Int, by creators: [(api: API, id: String)]) async
        -> (accepted: [String: [String]], refused: Int, other: [String])
    {
        // In 8 lanes: the tests share one HTTP client that keeps about 8 connections per host, and
        // a request queued behind hundreds of others times out waiting for one.
        await withTaskGroup(of: [Submission].self) { group in
            let lanes = 8
            for lane in 0..<lanes {
                group.addTask {
                    var outcomes: [Submission] = []
                    for index in stride(from: lane, to: count, by: lanes) {
                        outcomes.append(await submitOne(index, by: creators[index % creators.count]))
                    }
                    return outcomes
                }
            }
            var accepted: [String: [String]] = [:]
            var refused = 0
            var other: [String] = []
            for await outcomes in group {
                for outcome in outcomes {
                    switch outcome {
                    case .accepted(let creator, let job): accepted[creator, default: []].append(job)
                    case .refused: refused += 1
                    case .other(let text): other.append(text)
                    }
                }
            }
            return (accepted, refused, other)
        }
    }

    @Test("atelier serve killed with SIGKILL during a burst of submissions: after restart every 202 has its job and reservation, nothing else")
    func crash() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let adminKey = "atl_admin_crashTest0000000000000000000000000"
        func serve() async throws -> (AtelierProcess, String) {
            let child = try AtelierProcess(["serve", "--data-dir", directory.path, "--port", "0", "--workers", "0",
                                            "--log-level", "error", "--rate-limits", "off"],
                                           environment: ["ATELIER_ADMIN_KEY": adminKey])
            let output = try await child.waitForOutput("Atelier listening on ")
            let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("Atelier listening on ") })
            return (child, String(try #require(line.split(separator: " ").first { $0.hasPrefix("http://") })))
        }
        let (first, url) = try await serve()
        defer { if first.process.isRunning { first.signal(SIGKILL) } }
        let admin = API(url: url, key: adminKey)
        let created = try await admin.send(.POST, "/v1/admin/creators", json: CreateCreatorBody(name: "alice", credits: 1_000_000))
        let alice = try created.decode(CreatorResource.self)
        let api = API(url: url, key: alice.apiKey)

        let accepted = Shared<Set<String>>([])
        await withTaskGroup(of: Void.self) { group in
            for submitter in 0..<32 {
                group.addTask {
                    for index in 0..<10_000 {
                        let body = CreateJobBody(kind: .image, prompt: "a fox \(submitter)-\(index)", params: ParamsBody(width: 128, height: 96))
                        guard let response = try? await api.send(.POST, "/v1/jobs", json: body) else { return }
                        guard response.status == 202, let job = try? response.decode(JobResource.self) else { return }
                        accepted.update { _ = $0.insert(job.id) }
                    }
                }
            }
            group.addTask {
                while accepted.value.count < 300 { try? await Task.sleep(for: .milliseconds(5)) }
                first.signal(SIGKILL)
            }
        }
        _ = await first.waitForExit()
        let acknowledged = accepted.value
        #expect(acknowledged.count >= 300)

        let (second, secondURL) = try await serve()
        defer { second.signal(SIGTERM) }
        let after = API(url: secondURL, key: alice.apiKey)
        let jobs = try await CreditAudit.jobs(after)
        let stored = Set(jobs.map(\.id))
        #expect(acknowledged.isSubset(of: stored), "\(acknowledged.subtracting(stored).count) acknowledged jobs were lost")
        // A job may exist whose 202 was lost with the connection; it has its reservation too.
        #expect(jobs.allSatisfy { $0.status == .queued && $0.charged == nil })
        let account = try await CreditAudit.check(API(url: secondURL, key: adminKey), creator: alice.id, jobs: jobs)
        #expect(account.balance == 1_000_000, "nothing was charged")
        #expect(account.reserved == jobs.reduce(0) { $0 + $1.cost })
    }
}

/// Recomputes a creator's account from its credit log over HTTP and checks it job by job.
enum CreditAudit {
    /// All of the creator's jobs, every page.
    static func jobs(_ api: API) async throws -> [JobResource] {
        var jobs: [JobResource] = []
        var path = "/v1/jobs?limit=100"
        while true {
            let page = try await api.send(.GET, path).decode(ListBody<JobResource>.self)
            jobs += page.data
            guard let cursor = page.nextCursor else { return jobs }
            path = "/v1/jobs?limit=100&cursor=\(cursor)"
        }
    }

    static func check(_ admin: API, creator: String, jobs: [JobResource],
                      sourceLocation: SourceLocation = #_sourceLocation) async throws -> CreditAccountResource {
        var lines: [CreditTransactionResource] = []
        var path = "/v1/admin/creators/\(creator)/transactions?limit=100"
        while true {
            let page = try await admin.send(.GET, path).decode(ListBody<CreditTransactionResource>.self)
            lines += page.data
            guard let cursor = page.nextCursor else { break }
            path = "/v1/admin/creators/\(creator)/transactions?limit=100&cursor=\(cursor)"
        }
        let creators = try await admin.send(.GET, "/v1/admin/creators").decode(ListBody<CreatorResource>.self).data
        let account = try #require(creators.first { $0.id == creator }, sourceLocation: sourceLocation).credits
        var balance = 0, reserved = 0
        var perJob: [String: (reserve: Int, reserves: Int, capture: Int, release: Int)] = [:]
        for line in lines {
            switch line.kind {
            case "grant", "adjustment": balance += line.amount
            case "reserve":
                reserved += line.amount
                perJob[line.jobID ?? "", default: (0, 0, 0, 0)].reserve += line.amount
                perJob[line.jobID ?? "", default: (0, 0, 0, 0)].reserves += 1
            case "capture":
                balance -= line.amount
                reserved -= line.amount
                perJob[line.jobID ?? "", default: (0, 0, 0, 0)].capture += line.amount
            case "release":
                reserved -= line.amount
                perJob[line.jobID ?? "", default: (0, 0, 0, 0)].release += line.amount
            default: Issue.record("unknown kind \(line.kind)", sourceLocation: sourceLocation)
            }
        }
        #expect(account.balance == balance && account.reserved == reserved && account.available == balance - reserved,
                "account \(account) disagrees with its log (\(balance), \(reserved))", sourceLocation: sourceLocation)
        #expect(account.available >= 0, sourceLocation: sourceLocation)
        #expect(Set(perJob.keys) == Set(jobs.map(\.id)), "every job reserved, and only jobs that exist", sourceLocation: sourceLocation)
        for job in jobs {
            let lines = perJob[job.id] ?? (0, 0, 0, 0)
            #expect(lines.reserves == 1 && lines.reserve == job.cost, "job \(job.id) reserved \(lines.reserve) in \(lines.reserves) lines",
                    sourceLocation: sourceLocation)
            if job.status.isTerminal {
                #expect(lines.capture + lines.release == job.cost && job.charged == lines.capture,
                        "job \(job.id) (\(job.status)) settled \(lines.capture)+\(lines.release) of \(job.cost), charged \(String(describing: job.charged))",
                        sourceLocation: sourceLocation)
                if job.status == .succeeded { #expect(lines.capture == job.cost, sourceLocation: sourceLocation) }
                if job.status == .failed { #expect(lines.capture == 0, sourceLocation: sourceLocation) }
            } else {
                #expect(lines.capture == 0 && lines.release == 0 && job.charged == nil, sourceLocation: sourceLocation)
            }
        }
        return account
    }
}

/// A value shared between tasks, behind a lock.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) { storage = Mutex(value) }

    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    func update(_ body: (inout Value) -> Void) {
        storage.withLock { body(&$0) }
    }
}
