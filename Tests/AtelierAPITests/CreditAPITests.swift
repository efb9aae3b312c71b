import AtelierCore
import AtelierWire
import Foundation
import Testing

/// Credits over HTTP: 402 when a submission cannot be covered, the operator's grants and
/// adjustments, each creator's log, and the charge on the job.
@Suite struct CreditAPITests {
    @Test("a submission the creator cannot cover is a 402 problem naming both figures, and nothing is queued")
    func insufficientCredits() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator(credits: 3)
            let first = try await alice.submit(smallImage())
            #expect(first.cost == 1 && first.charged == nil)
            let big = CreateJobBody(kind: .image, prompt: "a lighthouse at dusk", params: ParamsBody(width: 1024, height: 1024))
            let refused = try await alice.send(.POST, "/v1/jobs", json: big)
            #expect(refused.status == 402)
            #expect(refused.headers["Content-Type"].first == "application/problem+json")
            let problem = try #require(refused.problem)
            #expect(problem.slug == "insufficient-credits")
            #expect(problem.available == 2 && problem.cost == 5)
            #expect(problem.detail.contains("5 credits") && problem.detail.contains("2 are available"))

            let listed = try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self)
            #expect(listed.data.map(\.id) == [first.id])
            let me = try await alice.send(.GET, "/v1/me").decode(CreatorResource.self)
            #expect(me.credits == CreditAccountResource(CreditAccount(balance: 3, reserved: 1)))

            // A film too dear queues neither itself nor any scene job.
            let film = CreateJobBody(kind: .video, prompt: "a harbour at dawn",
                                     params: ParamsBody(width: 320, height: 180, format: .mp4, fps: 12, durationS: 3, scenes: 2))
            let refusedFilm = try await alice.send(.POST, "/v1/jobs", json: film)
            #expect(refusedFilm.status == 402)
            let after = try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self)
            #expect(after.data.count == 1)
        }
    }

    @Test("a job that succeeds is charged its cost; the creator's log shows the reservation and the capture")
    func chargeAndLog() async throws {
        try await withServer(workers: 1) { server in
            let (alice, creator) = try await server.creator(credits: 50)
            let submitted = try await alice.submit(smallImage())
            let done = try await alice.waitForJob(submitted.id) { $0.status.isTerminal }
            #expect(done.status == .succeeded)
            #expect(done.charged == done.cost)
            let me = try await alice.send(.GET, "/v1/me").decode(CreatorResource.self)
            #expect(me.credits == CreditAccountResource(CreditAccount(balance: 50 - done.cost, reserved: 0)))

            let log = try await alice.send(.GET, "/v1/me/transactions").decode(ListBody<CreditTransactionResource>.self)
            #expect(log.data.map(\.kind) == ["capture", "reserve", "grant"])
            #expect(log.data[0].jobID == submitted.id && log.data[0].amount == done.cost && log.data[0].reason == "job succeeded")
            #expect(log.data[1].actor == creator.id)
            #expect(log.nextCursor == nil)

            // Paged one line at a time, newest first.
            var seen: [String] = []
            var path = "/v1/me/transactions?limit=1"
            while true {
                let page = try await alice.send(.GET, path).decode(ListBody<CreditTransactionResource>.self)
                seen += page.data.map(\.kind)
                guard let cursor = page.nextCursor else { break }
                path = "/v1/me/transactions?limit=1&cursor=\(cursor)"
            }
            #expect(seen == ["capture", "reserve", "grant"])
            let badCursor = try await alice.send(.GET, "/v1/me/transactions?cursor=abc")
            #expect(badCursor.status == 422 && badCursor.problem?.errors?.first?.field == "cursor")
        }
    }

    @Test("an operator grants and adjusts credits; an adjustment may not overdraw; only operators may")
    func grantsAndAdjustments() async throws {
        try await withServer { server in
            let (alice, creator) = try await server.creator(credits: 0)
            let (bob, _) = try await server.creator(credits: 10)
            let path = "/v1/admin/creators/\(creator.id)/credits"

            let granted = try await server.admin.send(.POST, path, json: GrantCreditsBody(amount: 40, reason: "monthly allowance"))
            #expect(granted.status == 200, "\(granted.text)")
            #expect(try granted.decode(CreatorResource.self).credits.balance == 40)
            _ = try await alice.submit(CreateJobBody(kind: .image, prompt: "a fox", params: ParamsBody(width: 1024, height: 1024)))

            let overdraw = try await server.admin.send(.POST, path, json: GrantCreditsBody(amount: -36, reason: "correction"))
            #expect(overdraw.status == 422)
            #expect(overdraw.problem?.errors?.first?.field == "amount")
            #expect(overdraw.problem?.detail.contains("35 credits can be taken away") == true, "\(overdraw.text)")
            let adjusted = try await server.admin.send(.POST, path, json: GrantCreditsBody(amount: -35, reason: "correction"))
            #expect(try adjusted.decode(CreatorResource.self).credits == CreditAccountResource(CreditAccount(balance: 5, reserved: 5)))

            let zero = try await server.admin.send(.POST, path, json: GrantCreditsBody(amount: 0, reason: "nothing"))
            #expect(zero.status == 422 && zero.problem?.errors?.first?.field == "amount")
            let noReason = try await server.admin.send(.POST, path, json: GrantCreditsBody(amount: 5, reason: " "))
            #expect(noReason.status == 422 && noReason.problem?.errors?.first?.field == "reason")
            let unknown = try await server.admin.send(.POST, "/v1/admin/creators/cr_nobody/credits",
                                                      json: GrantCreditsBody(amount: 5, reason: "x"))
            #expect(unknown.status == 404)
            let byCreator = try await bob.send(.POST, path, json: GrantCreditsBody(amount: 1_000, reason: "please"))
            #expect(byCreator.status == 403)

            // The operator reads any creator's log; a creator reads only its own.
            let log = try await server.admin.send(.GET, "/v1/admin/creators/\(creator.id)/transactions")
                .decode(ListBody<CreditTransactionResource>.self)
            #expect(log.data.map(\.kind) == ["adjustment", "reserve", "grant"])
            #expect(log.data[0].amount == -35 && log.data[0].actor == "admin" && log.data[0].reason == "correction")
            let bobsLog = try await bob.send(.GET, "/v1/me/transactions").decode(ListBody<CreditTransactionResource>.self)
            #expect(bobsLog.data.map(\.kind) == ["grant"])
            #expect(try await bob.send(.GET, "/v1/admin/creators/\(creator.id)/transactions").status == 403)
        }
    }
}
