import AtelierCore
import AtelierScheduler
import AtelierStore
import Foundation
import Testing

/// Dispatch order: the engine must serve creators exactly as the reference `FairQueue` does,
/// across batches, restarts and concurrent dispatchers.
@Suite struct FairDispatchContractTests {
    static let seeds: [UInt64] = [1, 2, 3, 4]

    @Test(arguments: StoreEngine.all, seeds)
    func dispatchOrderMatchesTheReferenceModel(engine: StoreEngine, seed: UInt64) async throws {
        var h = try await StoreHarness(engine)
        var random = SplitMix64(seed: seed)
        var model = FairQueue<JobID>()
        var creators: [(id: CreatorID, weight: Int)] = []
        for index in 0..<6 {
            let weight = 1 + Int(random.next() % 4)
            creators.append((try await h.makeCreator("creator-\(index)", weight: weight), weight))
        }
        var leasedCount = 0
        for step in 0..<160 {
            if step == 80 { try await h.restart() }
            h.clock.advance(by: 0.001)
            if random.next() % 10 < 6 {
                let batch = (0..<(1 + Int(random.next() % 4))).map { _ -> NewJob in
                    let creator = creators[Int(random.next() % UInt64(creators.count))]
                    return h.newJob(creator.id, cost: 1 + Int(random.next() % 20), priority: Int(random.next() % 3) - 1)
                }
                try await h.enqueue(batch)
                for job in batch {
                    let weight = creators.first { $0.id == job.creatorID }!.weight
                    model.enqueue(job.id, creator: job.creatorID.rawValue, weight: weight, cost: job.cost, priority: job.priority)
                }
            } else {
                let limit = 1 + Int(random.next() % 3)
                let leased = try await h.lease(limit).map(\.job.id)
                let expected = (0..<limit).compactMap { _ in model.dequeue()?.item }
                #expect(leased == expected, "step \(step)")
                leasedCount += leased.count
            }
        }
        let rest = try await h.lease(1_000).map(\.job.id)
        var expectedRest: [JobID] = []
        while let next = model.dequeue() { expectedRest.append(next.item) }
        #expect(rest == expectedRest)
        #expect(leasedCount + rest.count > 100)
    }

    @Test(arguments: StoreEngine.all)
    func withinACreatorHigherPriorityThenOldestRunsFirst(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let alice = try await h.makeCreator("alice")
        let low = h.newJob(alice, priority: -5)
        let normal1 = h.newJob(alice)
        let urgent = h.newJob(alice, priority: 10)
        let normal2 = h.newJob(alice)
        try await h.enqueue([low, normal1, urgent, normal2])
        #expect(try await h.lease(4).map(\.job.id) == [urgent.id, normal1.id, normal2.id, low.id])
    }

    @Test(arguments: StoreEngine.all)
    func aLightCreatorIsServedAtOnceDuringAFlood(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let flooder = try await h.makeCreator("flooder")
        try await h.enqueue((0..<1_000).map { _ in h.newJob(flooder) })
        _ = try await h.lease(50)
        var light: [CreatorID] = []
        for name in ["b", "c", "d", "e"] {
            let id = try await h.makeCreator(name)
            light.append(id)
            try await h.enqueue((0..<20).map { _ in h.newJob(id) })
        }
        let order = try await h.lease(200).map(\.job.creatorID)
        for creator in light {
            let positions = order.indices.filter { order[$0] == creator }
            #expect(positions.count == 20)
            // Round robin among five backlogged creators: first job within one round, the
            // twentieth within twenty rounds (plus the round in which it arrived).
            #expect(try #require(positions.first) < 5)
            #expect(try #require(positions.last) < 5 * 21)
        }
    }

    @Test(arguments: StoreEngine.all)
    func backloggedCreatorsShareByWeight(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let weights = [1, 2, 4]
        var ids: [CreatorID] = []
        for (index, weight) in weights.enumerated() {
            let id = try await h.makeCreator("c\(index)", weight: weight)
            ids.append(id)
            try await h.enqueue((0..<800).map { _ in h.newJob(id, cost: 3) })
        }
        var served: [CreatorID: Int] = [:]
        for _ in 0..<7 {
            for lease in try await h.lease(100) { served[lease.job.creatorID, default: 0] += lease.job.cost }
        }
        let total = Double(served.values.reduce(0, +))
        for (id, weight) in zip(ids, weights) {
            let share = Double(served[id, default: 0]) / total
            #expect(abs(share - Double(weight) / 7) < 0.02, "creator of weight \(weight) got \(share)")
        }
    }

    @Test(arguments: StoreEngine.all)
    func idleTimeEarnsNoCredit(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let a = try await h.makeCreator("a")
        let b = try await h.makeCreator("b")
        let returning = try await h.makeCreator("returning")
        try await h.enqueue([h.newJob(returning)])
        _ = try await h.lease(1)
        try await h.enqueue((0..<300).map { _ in h.newJob(a) } + (0..<300).map { _ in h.newJob(b) })
        _ = try await h.lease(400)  // a and b are served while `returning` is idle
        try await h.enqueue((0..<100).map { _ in h.newJob(returning) })
        let next = try await h.lease(60).map(\.job.creatorID)
        let share = next.filter { $0 == returning }.count
        // A third of the service, not a burst to catch up on the 400 dispatches it sat out.
        #expect((19...21).contains(share), "returning creator got \(share) of 60")
    }

    @Test(arguments: StoreEngine.all)
    func workersReceiveOnlyModelsTheyServe(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let other = ModelID(rawValue: "sdxl")!
        let a = try await h.makeCreator("a")
        let b = try await h.makeCreator("b")
        try await h.enqueue((0..<3).map { _ in h.newJob(a, model: other) })  // a is first in line
        try await h.enqueue((0..<3).map { _ in h.newJob(b) })
        let builtinLeases = try await h.lease(10, models: [.builtin])
        #expect(builtinLeases.count == 3 && builtinLeases.allSatisfy { $0.job.model == .builtin })
        let otherLeases = try await h.lease(10, models: [other])
        #expect(otherLeases.count == 3 && otherLeases.allSatisfy { $0.job.model == other && $0.job.creatorID == a })
        #expect(try await h.lease(10, models: [.builtin, other]).isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func poolsAreDispatchedSeparately(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let a = try await h.makeCreator("a")
        try await h.enqueue([h.newJob(a, pool: .video), h.newJob(a, pool: .image)])
        let image = try await h.lease(5, pool: .image)
        #expect(image.count == 1 && image[0].job.pool == .image)
        #expect(try await h.lease(5, pool: .video).count == 1)
    }

    @Test(arguments: StoreEngine.all)
    func concurrentDispatchersNeverLeaseAJobTwice(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        var all: Set<JobID> = []
        for index in 0..<5 {
            let creator = try await h.makeCreator("c\(index)", weight: index + 1)
            all.formUnion(try await h.enqueue((0..<120).map { _ in h.newJob(creator) }).map(\.id))
        }
        let store = h.store
        let now = h.clock.now
        let leases = try await withThrowingTaskGroup(of: [Lease].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var mine: [Lease] = []
                    while true {
                        let batch = try await store.leaseJobs(
                            LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w\(worker)")!, models: [.builtin], limit: 7),
                            now: now)
                        if batch.isEmpty { return mine }
                        mine += batch
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(leases.count == all.count)
        #expect(Set(leases.map(\.job.id)) == all)
        let outcomes = try await withThrowingTaskGroup(of: [CompletionOutcome].self) { group in
            for chunk in stride(from: 0, to: leases.count, by: 50) {
                let part = leases[chunk..<min(chunk + 50, leases.count)].map { Completion(token: $0.token) }
                group.addTask { try await store.complete(part, now: now) }
                group.addTask { try await store.complete(part, now: now) }  // every completion sent twice
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(outcomes.filter { $0 == .completed }.count == all.count)
        #expect(outcomes.filter { $0 == .leaseLost }.count == all.count)
    }

    /// Many dispatchers on one creator: on PostgreSQL a dispatcher can read jobs in its snapshot
    /// that another one leases just before this one locks the creator, so its plan goes stale
    /// and must be made again, never fail the call or lease a job twice.
    @Test(arguments: StoreEngine.all)
    func dispatchersRacingForOneCreatorNeverFailOrLeaseTwice(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let creator = try await h.makeCreator("solo")
        var all: Set<JobID> = []
        for _ in 0..<4 { all.formUnion(try await h.enqueue((0..<200).map { _ in h.newJob(creator) }).map(\.id)) }
        let store = h.store
        let now = h.clock.now
        let leases = try await withThrowingTaskGroup(of: [Lease].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var mine: [Lease] = []
                    var emptyInARow = 0
                    // SKIP LOCKED may answer "nothing" while another dispatcher holds the
                    // creator; only a few empty answers in a row mean the queue is drained.
                    while emptyInARow < 20 {
                        let batch = try await store.leaseJobs(
                            LeaseRequest(pool: .image, worker: WorkerID(rawValue: "w\(worker)")!, models: [.builtin], limit: 3),
                            now: now)
                        if batch.isEmpty { emptyInARow += 1; await Task.yield() } else { emptyInARow = 0 }
                        mine += batch
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(leases.count == all.count)
        #expect(Set(leases.map(\.job.id)) == all)
    }

    @Test(arguments: StoreEngine.all)
    func queueingRingsTheWorkSignal(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let a = try await h.makeCreator("a")
        let imageTicket = h.store.workSignal.ticket(for: .image)
        let videoTicket = h.store.workSignal.ticket(for: .video)
        try await h.enqueue([h.newJob(a)])
        #expect(h.store.workSignal.hasRung(since: imageTicket))
        #expect(!h.store.workSignal.hasRung(since: videoTicket))
        await h.store.workSignal.wait(imageTicket, timeout: .seconds(3600))  // returns at once
    }
}
