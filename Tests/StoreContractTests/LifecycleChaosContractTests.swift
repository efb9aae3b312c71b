import AtelierCore
import AtelierStore
import Foundation
import Testing

/// Random interleavings of every store operation, including stale and duplicate reports. However
/// they interleave, no job may be lost, none may succeed twice, and no stale holder may change a job.
@Suite struct LifecycleChaosContractTests {
    @Test(arguments: StoreEngine.all, [UInt64(11), 12, 13])
    func noJobIsLostOrCompletedTwice(engine: StoreEngine, seed: UInt64) async throws {
        let h = try await StoreHarness(engine)
        var random = SplitMix64(seed: seed)
        var creators: [CreatorID] = []
        // Budgets that run out part way: some submissions are refused and must queue nothing.
        for index in 0..<4 { creators.append(try await h.makeCreator("c\(index)", weight: 1 + index, credits: 40 + 20 * index)) }
        var refused = 0
        var queued: [JobID] = []
        var tokens: [LeaseToken] = []          // every token ever handed out, stale ones included
        var acceptedCompletions: [JobID: Int] = [:]
        var successes: Set<JobID> = []
        var latestFence: [JobID: Int64] = [:]

        /// Whether a token is the job's current lease: the newest one issued, on a running job.
        func isCurrent(_ token: LeaseToken) async throws -> Bool {
            try await h.job(token.jobID).status == .running && latestFence[token.jobID] == token.fence
        }

        func pick<T>(_ values: [T]) -> T? {
            values.isEmpty ? nil : values[Int(random.next() % UInt64(values.count))]
        }

        for _ in 0..<400 {
            switch random.next() % 10 {
            case 0, 1:
                let creator = pick(creators)!
                let jobs = (0..<(1 + Int(random.next() % 3))).map { _ in
                    h.newJob(creator, cost: 1 + Int(random.next() % 3), maxAttempts: 2)
                }
                do {
                    queued += try await h.enqueue(jobs).map(\.id)
                } catch let error as StoreError where error.code == .insufficientCredits {
                    refused += 1
                    for job in jobs { #expect(try await h.store.job(id: job.id, scope: .operator) == nil) }
                }
            case 2, 3:
                let worker = "w\(random.next() % 3)"
                for lease in try await h.lease(1 + Int(random.next() % 3), worker: worker, duration: 30) {
                    #expect(lease.token.fence > latestFence[lease.job.id, default: 0])
                    latestFence[lease.job.id] = lease.token.fence
                    tokens.append(lease.token)
                }
            case 4:
                if let token = pick(tokens) {
                    let current = try await isCurrent(token)
                    let outcome = try await h.store.complete([Completion(token: token)], now: h.clock.now)
                    #expect(outcome == [current ? .completed : .leaseLost])
                    if outcome == [.completed] {
                        acceptedCompletions[token.jobID, default: 0] += 1
                        successes.insert(token.jobID)
                    }
                }
            case 5:
                if let token = pick(tokens) {
                    let retry = random.next() % 2 == 0 ? h.clock.now.addingTimeInterval(5) : nil
                    let current = try await isCurrent(token)
                    let outcome = try await h.store.fail(token, error: JobError(code: "x", message: "y"), retryAt: retry, now: h.clock.now)
                    #expect((outcome != .leaseLost) == current)
                }
            case 6:
                if let id = pick(queued) { _ = try await h.store.cancel(id: id, scope: .operator, now: h.clock.now) }
            case 7:
                if let token = pick(tokens) {
                    let current = try await isCurrent(token)
                    if random.next() % 2 == 0 {
                        let cancelling = try await h.job(token.jobID).isCancelRequested
                        #expect(try await h.store.release(token, now: h.clock.now) == (current && !cancelling))
                    } else {
                        let beat = try await h.store.heartbeat(token, progress: 0.5, leaseDuration: 30, now: h.clock.now)
                        #expect((beat != .leaseLost) == current)
                    }
                }
            case 9:
                for creator in creators { try await h.auditCredits(creator) }
            default:
                h.clock.advance(by: Double(random.next() % 40))
                _ = try await h.store.reclaimExpiredLeases(now: h.clock.now)
                _ = try await h.store.promoteDueRetries(now: h.clock.now)
            }
        }

        // Drain: let every backoff and lease run out, then finish whatever is still open.
        for _ in 0..<10 {
            h.clock.advance(by: 60)
            _ = try await h.store.reclaimExpiredLeases(now: h.clock.now)
            _ = try await h.store.promoteDueRetries(now: h.clock.now)
            let leases = try await h.lease(1_000)
            for lease in leases { latestFence[lease.job.id] = lease.token.fence }
            let outcomes = try await h.store.complete(leases.map { Completion(token: $0.token) }, now: h.clock.now)
            for (lease, outcome) in zip(leases, outcomes) where outcome == .completed {
                acceptedCompletions[lease.job.id, default: 0] += 1
                successes.insert(lease.job.id)
            }
        }

        var terminal = 0
        for id in queued {
            let job = try await h.job(id)
            #expect(job.status.isTerminal, "job \(id) was left \(job.status)")
            if job.status.isTerminal { terminal += 1 }
            #expect((job.status == .succeeded) == successes.contains(id), "job \(id) is \(job.status)")
            #expect(job.attempt <= job.maxAttempts)
        }
        #expect(terminal == queued.count)
        #expect(acceptedCompletions.values.allSatisfy { $0 == 1 }, "a job was completed twice")
        #expect(try await h.lease(1_000).isEmpty)
        #expect(try await h.store.queueSummary(pool: .image).allSatisfy { $0.queued == 0 && $0.running == 0 })
        #expect(queued.count > 100)
        // Every credit accounted for: nothing is held once every job has ended.
        #expect(refused > 0, "the budgets never ran out; the refusal path went untested")
        for creator in creators { #expect(try await h.auditCredits(creator).reserved == 0) }

        // The chain of title: exactly the succeeded jobs have entries, each once.
        _ = try await h.store.ledger.sequenceLedger(LedgerContractTests.sequencer(), now: h.clock.now)
        let leaves = try await h.store.ledger.ledgerLeaves(from: 0, count: 10_000)
        #expect(leaves.map(\.index) == Array(0 ..< Int64(leaves.count)))
        #expect(Set(leaves.map(\.jobID)) == successes)
        #expect(leaves.count == successes.count)
    }
}
