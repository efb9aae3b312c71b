public import AtelierStore
import AtelierCore
import Foundation

/// (c) Fairness under a flood, with one worker running 5 ms jobs, and weighted shares among
/// three flooding creators. With `nodes` > 1 (PostgreSQL) the same probes run through several
/// store nodes on one database: the worker's round trips go to each node in turn, as behind a
/// load balancer, and the light creators submit through another node; the weighted shares are
/// leased by one dispatcher per node at once.
public enum FairnessBenchmark {
    public static func flood(engine: BenchEngine, floodSize: Int = 10_000, nodes: Int = 1) async throws -> [BenchmarkResult] {
        let bed = try await BenchmarkBed(engine: engine, nodes: nodes)
        let housekeeping = bed.startHousekeeping()
        defer { housekeeping.cancel(); bed.remove() }
        let creators = try await bed.makeCreators(5)
        let flooder = creators[0], light = Array(creators.dropFirst())
        for start in stride(from: 0, to: floodSize, by: 1_000) {
            _ = try await bed.store.enqueue((start..<min(floodSize, start + 1_000)).map { _ in bed.job(flooder) }, now: bed.clock.now)
        }
        let lightJobs = light.count * 20
        let log = DispatchLog()
        let worker = Task {
            // A worker slot: acknowledge each job and fetch the next in one round trip.
            let request = bed.leaseRequest(worker: "single", limit: 1)
            var next: Lease?
            var round = 0
            while await log.lightServed < lightJobs {
                let node = bed.nodes[round % bed.nodes.count]
                round += 1
                if next == nil { next = try await node.leaseJobs(request, now: bed.clock.now).first }
                guard let lease = next else {
                    try await Task.sleep(for: .milliseconds(1))
                    continue
                }
                await log.leased(lease.job.creatorID, isLight: lease.job.creatorID != flooder, at: ContinuousClock.now)
                try await Task.sleep(until: .now + .milliseconds(5), tolerance: .zero, clock: .continuous)  // the job's work
                next = try await node.complete([Completion(token: lease.token)], thenLease: request, now: bed.clock.now).leases.first
            }
        }
        try await Task.sleep(for: .milliseconds(100))  // the flood is being served
        for creator in light {
            await log.arrived(creator, at: ContinuousClock.now)
            _ = try await bed.nodes[bed.nodes.count - 1].enqueue((0..<20).map { _ in bed.job(creator) }, now: bed.clock.now)
        }
        try await worker.value
        let waits = await log.lightWaitsInMilliseconds()
        let firstWait = await log.worstFirstWaitInMilliseconds()
        let p99 = percentile(waits, 99) / 1000
        let through = nodeLabel(nodes)
        return [
            BenchmarkResult(name: "c) flood of \(floodSize) by A, then 4 × 20\(through): worst first-job wait of B–E",
                            value: firstWait, unit: "ms", target: "≤ 30 ms", isMet: firstWait <= 30),
            BenchmarkResult(name: "c) flood\(through): p99 wait of B–E's 80 jobs", value: p99, unit: "s", target: "≤ 0.6 s",
                            isMet: p99 <= 0.6),
        ]
    }

    private static func nodeLabel(_ nodes: Int) -> String { nodes > 1 ? ", \(nodes) nodes" : "" }

    public static func weightedShares(engine: BenchEngine, dispatches: Int = 7_000, nodes: Int = 1) async throws -> [BenchmarkResult] {
        let bed = try await BenchmarkBed(engine: engine, nodes: nodes)
        let housekeeping = bed.startHousekeeping()
        defer { housekeeping.cancel(); bed.remove() }
        let weights = [1, 2, 4]
        let creators = try await bed.makeCreators(3) { weights[$0] }
        var random = SplitMix64(seed: 99)
        for creator in creators {
            for _ in 0..<5 {
                let batch = (0..<dispatches / 2).map { _ in bed.job(creator, cost: 1 + Int(random.next() % 10)) }
                _ = try await bed.store.enqueue(batch, now: bed.clock.now)
            }
        }
        // One dispatcher per node, all at once, each leasing its part of the dispatches.
        let service = try await withThrowingTaskGroup(of: [CreatorID: Double].self) { group in
            for (index, node) in bed.nodes.enumerated() {
                let share = dispatches / bed.nodes.count + (index < dispatches % bed.nodes.count ? 1 : 0)
                group.addTask {
                    var service: [CreatorID: Double] = [:]
                    var leased = 0
                    while leased < share {
                        let leases = try await node.leaseJobs(bed.leaseRequest(worker: "w\(index)", limit: min(100, share - leased)),
                                                              now: bed.clock.now)
                        for lease in leases { service[lease.job.creatorID, default: 0] += Double(lease.job.cost) }
                        leased += leases.count
                    }
                    return service
                }
            }
            return try await group.reduce(into: [:]) { total, part in total.merge(part, uniquingKeysWith: +) }
        }
        let total = service.values.reduce(0, +)
        let deviations = zip(creators, weights).map { creator, weight in
            abs(service[creator, default: 0] / total - Double(weight) / 7)
        }
        let normalised = zip(creators, weights).map { service[$0, default: 0] / Double($1) }
        let jain = pow(normalised.reduce(0, +), 2) / (Double(normalised.count) * normalised.map { $0 * $0 }.reduce(0, +))
        let worst = deviations.max()! * 100
        return [
            BenchmarkResult(name: "c) weights 1:2:4 flooding, \(dispatches) dispatches\(nodeLabel(nodes)), random costs: worst share error",
                            value: worst, unit: "points", target: "≤ 2 points", isMet: worst <= 2),
            BenchmarkResult(name: "c) weights 1:2:4\(nodeLabel(nodes)): Jain's index over weight-normalised service",
                            value: jain, unit: "", target: "≥ 0.99", isMet: jain >= 0.99),
        ]
    }
}

actor DispatchLog {
    private var arrivals: [CreatorID: ContinuousClock.Instant] = [:]
    private var waits: [Double] = []
    private var firstWaits: [CreatorID: Double] = [:]
    private(set) var lightServed = 0

    func arrived(_ creator: CreatorID, at instant: ContinuousClock.Instant) { arrivals[creator] = instant }

    func leased(_ creator: CreatorID, isLight: Bool, at instant: ContinuousClock.Instant) {
        guard isLight, let arrival = arrivals[creator] else { return }
        let wait = (instant - arrival).seconds * 1000
        waits.append(wait)
        if firstWaits[creator] == nil { firstWaits[creator] = wait }
        lightServed += 1
    }

    func lightWaitsInMilliseconds() -> [Double] { waits }
    func worstFirstWaitInMilliseconds() -> Double { firstWaits.values.max() ?? .nan }
}
