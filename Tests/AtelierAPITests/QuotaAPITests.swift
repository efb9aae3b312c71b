import AtelierCore
import AtelierWire
import Foundation
import Testing

/// Quotas over HTTP: the platform's defaults and a creator's own, what a creator sees of them,
/// and the problems that say which quota refused and when it frees up.
@Suite struct QuotaAPITests {
    @Test("a creator sees its quotas and today's spending; passing a quota is a 429 or 402 that names it")
    func quotas() async throws {
        try await withServer(configure: { $0.quotas = Quotas(maxQueuedJobs: 2) }) { server in
            let (alice, creator) = try await server.creator()
            #expect(creator.quotas == QuotasBody(maxQueuedJobs: 2))
            _ = try await alice.submit(smallImage())
            _ = try await alice.submit(smallImage(seed: 8))
            let queued = try await alice.send(.POST, "/v1/jobs", json: smallImage(seed: 9))
            #expect(queued.status == 429)
            let problem = try #require(queued.problem)
            #expect(problem.slug == "quota-exceeded" && problem.quota == "max_queued_jobs" && problem.limit == 2)
            #expect(problem.resetsAt == nil && queued.headers["Retry-After"].isEmpty)
            #expect(problem.detail.contains("2 jobs waiting to start"))

            // The operator gives alice her own quotas: more jobs waiting, 3 credits a day.
            let path = "/v1/admin/creators/\(creator.id)/quotas"
            let set = try await server.admin.send(.PUT, path, json: QuotasBody(maxQueuedJobs: 10, maxDailyCredits: 3))
            #expect(set.status == 200, "\(set.text)")
            #expect(try set.decode(CreatorResource.self).quotas == QuotasBody(maxQueuedJobs: 10, maxDailyCredits: 3))
            _ = try await alice.submit(smallImage(seed: 9))
            let daily = try await alice.send(.POST, "/v1/jobs", json: smallImage(seed: 10))
            #expect(daily.status == 402)
            let dailyProblem = try #require(daily.problem)
            #expect(dailyProblem.quota == "max_daily_credits" && dailyProblem.limit == 3)
            let resetsAt = try #require(dailyProblem.resetsAt.flatMap(WireCoding.parseTimestamp))
            #expect(resetsAt.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400) == 0)
            let retryAfter = try #require(Int(daily.headers["Retry-After"].first ?? ""))
            #expect(retryAfter > 0 && retryAfter <= 86_400)

            let me = try await alice.send(.GET, "/v1/me").decode(CreatorResource.self)
            #expect(me.quotas == QuotasBody(maxQueuedJobs: 10, maxDailyCredits: 3))
            #expect(me.usage?.creditsSpentToday == 0)
            #expect(me.usage?.resetsAt == resetsAt)
            #expect(me.credits.reserved == 3)

            // Back to the defaults: null follows the platform.
            let reset = try await server.admin.send(.PUT, path, json: QuotasBody())
            #expect(try reset.decode(CreatorResource.self).quotas == QuotasBody(maxQueuedJobs: 2))
            let invalid = try await server.admin.send(.PUT, path, body: Data(#"{"max_running_jobs": 0}"#.utf8))
            #expect(invalid.status == 422 && invalid.problem?.errors?.first?.field == "quotas.max_running_jobs")
            let unknown = try await server.admin.send(.PUT, "/v1/admin/creators/cr_nobody/quotas", json: QuotasBody())
            #expect(unknown.status == 404)
            #expect(try await alice.send(.PUT, path, json: QuotasBody()).status == 403)
        }
    }

    @Test("a running cap set when the creator is made keeps its jobs one at a time while another's run beside it")
    func runningCap() async throws {
        try await withServer { server in
            let created = try await server.admin.send(.POST, "/v1/admin/creators", json: CreateCreatorBody(
                name: "capped", credits: 1_000, quotas: QuotasBody(maxRunningJobs: 1)))
            let capped = try created.decode(CreatorResource.self)
            #expect(capped.quotas.maxRunningJobs == 1)
            let client = server.client(capped.apiKey)
            let (other, _) = try await server.creator()
            for seed in 0..<3 {
                _ = try await client.submit(smallImage(seed: UInt32(seed)))
                _ = try await other.submit(smallImage(seed: UInt32(seed)))
            }
            // The test is the worker: it asks for more than either creator has.
            let worker = try await server.workerCalls()
            let first = try await worker.lease(limit: 10)
            let cappedID = capped.id
            func count(_ leases: [LeaseBody], _ creator: String) -> Int { leases.count { $0.job.creatorID == creator } }
            #expect(count(first, cappedID) == 1 && first.count == 4, "\(first.map(\.job.creatorID))")
            #expect(try await worker.lease(limit: 10).isEmpty)
            // Hers ends: the next of hers is handed out, again one.
            let hers = try #require(first.first { $0.job.creatorID == cappedID })
            #expect(try await worker.finish(hers).status == 200)
            let next = try await worker.lease(limit: 10)
            #expect(next.count == 1 && count(next, cappedID) == 1)
        }
    }
}
