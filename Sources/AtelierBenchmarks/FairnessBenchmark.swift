import AtelierStore
import AtelierBlobs
import AtelierCore
import AtelierWorker
import Foundation
import Logging
import Synchronization

/// (c) Fairness under a flood, with one worker slot running 5 ms jobs, and weighted shares among
/// three flooding creators. With `nodes` > 1 (PostgreSQL) the same probes run through several
/// store nodes on one database: the worker's round trips go to each node in turn, as behind a
/// load balancer, and the light creators submit through another node; the weighted shares are
/// leased by one dispatcher per node at once.
public enum FairnessBenchmark {
    /// The flood probe. Its worker is one slot of a real `WorkerPool` whose backend sleeps 5 ms
    /// per job; a light creator's wait is from just before its jobs are submitted to when each
    /// one starts running. It runs twice: with the worker's default configuration (short jobs
    /// leased one ahead) and with leasing ahead off (every dispatch's round trip between jobs).
    public static func flood(engine: BenchEngine, floodSize: Int = 10_000, nodes: Int = 1) async throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        for leaseAhead in [WorkerConfiguration.defaultLeaseAhead, .zero] {
            let (firstWait, p99) = try await flood(engine: engine, floodSize: floodSize, nodes: nodes, leaseAhead: leaseAhead)
            let through = nodeLabel(nodes) + (leaseAhead == .zero ? ", leasing ahead off" : "")
            results += [
                BenchmarkResult(name: "c) flood of \(floodSize) by A, then 4 × 20\(through): worst first-job wait of B–E",
                                value: firstWait, unit: "ms", target: "≤ 30 ms", isMet: firstWait <= 30),
                BenchmarkResult(name: "c) flood\(through): p99 wait of B–E's 80 jobs", value: p99, unit: "s", target: "≤ 0.6 s",
                                isMet: p99 <= 0.6),
            ]
        }
        return results
    }

    private static func flood(engine: BenchEngine, floodSize: Int, nodes: Int, leaseAhead: Duration) async throws
        -> (firstWait: Double, p99: Double)
    {
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
        let blobs = try FileBlobStore(root: bed.directory.appendingPathComponent("blobs", isDirectory: true))
        let configuration = WorkerConfiguration(worker: WorkerID(rawValue: "single")!, pool: .image, slots: 1, leaseAhead: leaseAhead)
        let sources = bed.nodes.map {
            LocalWorkSource(store: $0, blobs: blobs, worker: configuration.worker, lease: configuration.lease, clock: bed.clock)
        }
        var logger = Logger(label: "atelier.bench")
        logger.logLevel = .error
        let worker = WorkerPool(source: RoundRobinWorkSource(sources), backend: SleepingBackend(log: log, flooder: flooder),
                                configuration: configuration, clock: bed.clock, logger: logger)
        let running = Task { try await worker.run() }
        try await Task.sleep(for: .milliseconds(100))  // the flood is being served
        for creator in light {
            await log.arrived(creator, at: ContinuousClock.now)
            _ = try await bed.nodes[bed.nodes.count - 1].enqueue((0..<20).map { _ in bed.job(creator) }, now: bed.clock.now)
        }
        while await log.lightServed < lightJobs { try await Task.sleep(for: .milliseconds(5)) }
        worker.beginDraining()
        try await running.value
        let waits = await log.lightWaitsInMilliseconds()
        return (await log.worstFirstWaitInMilliseconds(), percentile(waits, 99) / 1000)
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

    func started(_ creator: CreatorID, isLight: Bool, at instant: ContinuousClock.Instant) {
        guard isLight, let arrival = arrivals[creator] else { return }
        let wait = (instant - arrival).seconds * 1000
        waits.append(wait)
        if firstWaits[creator] == nil { firstWaits[creator] = wait }
        lightServed += 1
    }

    func lightWaitsInMilliseconds() -> [Double] { waits }
    func worstFirstWaitInMilliseconds() -> Double { firstWaits.values.max() ?? .nan }
}

/// The flood's jobs: each records when it starts, then works for 5 ms.
private struct SleepingBackend: Backend {
    let log: DispatchLog
    let flooder: CreatorID
    var models: Set<ModelID> { [.builtin] }

    func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        await log.started(job.creatorID, isLight: job.creatorID != flooder, at: ContinuousClock.now)
        try await Task.sleep(until: .now + .milliseconds(5), tolerance: .zero, clock: .continuous)
        return []
    }
}

/// A worker's round trips to several nodes in turn, as behind a load balancer.
private final class RoundRobinWorkSource: WorkSource {
    private let sources: [LocalWorkSource]
    private let turn = Atomic<Int>(0)

    init(_ sources: [LocalWorkSource]) { self.sources = sources }

    private var next: LocalWorkSource { sources[turn.add(1, ordering: .relaxed).oldValue % sources.count] }

    func lease(_ request: WorkRequest, wait: Duration) async throws -> [Lease] { try await next.lease(request, wait: wait) }
    func heartbeat(_ token: LeaseToken, progress: Double) async throws -> HeartbeatOutcome {
        try await next.heartbeat(token, progress: progress)
    }
    func complete(_ lease: Lease, outputs: [BackendOutput], thenLease request: WorkRequest) async throws
        -> (outcome: CompletionOutcome, leases: [Lease]) {
        try await next.complete(lease, outputs: outputs, thenLease: request)
    }
    func fail(_ lease: Lease, error: JobError, isRetryable: Bool) async throws -> FailureOutcome {
        try await next.fail(lease, error: error, isRetryable: isRetryable)
    }
    func release(_ token: LeaseToken) async throws -> Bool { try await next.release(token) }
    func sceneClips(of lease: Lease) async throws -> [Data] { try await next.sceneClips(of: lease) }
    func interruptWaits(pool: PoolName) { for source in sources { source.interruptWaits(pool: pool) } }
}
