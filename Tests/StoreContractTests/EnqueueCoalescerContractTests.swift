import AtelierCore
import AtelierStore
import Foundation
import Testing

/// Group commit of submissions: every caller gets exactly the outcome it would have had alone.
@Suite struct EnqueueCoalescerContractTests {
    @Test(arguments: StoreEngine.all)
    func concurrentSubmissionsAreAllQueuedOnce(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        var creators: [CreatorID] = []
        for name in ["a", "b", "c", "d"] { creators.append(try await h.makeCreator(name)) }
        let coalescer = EnqueueCoalescer(store: h.store, clock: h.clock, maximumBatch: 16)
        let jobs = (0..<300).map { h.newJob(creators[$0 % 4], prompt: "job \($0)") }
        let outcomes = try await withThrowingTaskGroup(of: EnqueueOutcome.self) { group in
            for job in jobs { group.addTask { try await coalescer.enqueue(job) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == jobs.count)
        #expect(Set(outcomes.map(\.job.id)) == Set(jobs.map(\.id)))
        for outcome in outcomes {
            guard case .created(let job) = outcome else { Issue.record("not created: \(outcome)"); continue }
            #expect(try await h.job(job.id) == job)
        }
    }

    @Test(arguments: StoreEngine.all)
    func oneRefusedSubmissionDoesNotFailItsBatch(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let coalescer = EnqueueCoalescer(store: h.store, clock: h.clock)
        for round in 0..<20 {
            let key = "order-\(round)"
            let same = [h.newJob(alice, key: key, fingerprint: "f1"), h.newJob(alice, key: key, fingerprint: "f1")]
            let other = h.newJob(alice, key: key, fingerprint: "f2")
            let stranger = h.newJob(CreatorID(rawValue: "nobody-\(round)")!)
            let plain = (0..<5).map { h.newJob(alice, prompt: "plain \(round) \($0)") }
            let all = same + [other, stranger] + plain
            let results = await withTaskGroup(of: (JobID, Result<EnqueueOutcome, any Error>).self) { group in
                for job in all {
                    group.addTask {
                        do { return (job.id, .success(try await coalescer.enqueue(job))) } catch { return (job.id, .failure(error)) }
                    }
                }
                return await group.reduce(into: [JobID: Result<EnqueueOutcome, any Error>]()) { $0[$1.0] = $1.1 }
            }
            // The plain ones are queued whatever else was in their batch.
            for job in plain {
                guard case .success(.created(let created)) = results[job.id] else { Issue.record("\(String(describing: results[job.id]))"); continue }
                #expect(created.id == job.id)
            }
            // The creator that does not exist is refused, alone.
            guard case .failure(let error as StoreError) = results[stranger.id] else { Issue.record("stranger queued"); continue }
            #expect(error.code == .unknownCreator)
            // One request body won the key; same-body repeats got its job, the other body a conflict.
            let winners = Set((same + [other]).compactMap { job -> JobID? in
                if case .success(let outcome) = results[job.id] { return outcome.job.id }
                return nil
            })
            #expect(winners.count == 1, "round \(round): \(winners)")
            let winnerIsF1 = winners.first.map { id in same.contains { $0.id == id } } ?? false
            let losers = winnerIsF1 ? [other] : same
            for job in losers {
                guard case .failure(let error as StoreError) = results[job.id] else { Issue.record("round \(round): \(job.id) was not refused"); continue }
                #expect(error.code == .idempotencyConflict)
            }
        }
    }
}
