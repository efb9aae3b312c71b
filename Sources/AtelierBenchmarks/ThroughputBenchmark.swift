import AtelierStore
import AtelierCore
import Foundation

/// (a) No-op jobs end to end through the store: a producer queues in batches while two worker
/// tasks lease and complete in batches, until every job has completed.
public enum ThroughputBenchmark {
    public static func run(jobs total: Int, engine: BenchEngine,
                           maximumBacklog: Int = 20_000) async throws -> [BenchmarkResult] {
        let bed = try await BenchmarkBed(engine: engine)
        let housekeeping = bed.startHousekeeping()
        defer { housekeeping.cancel(); bed.remove() }
        let creators = try await bed.makeCreators(10)
        let store = bed.store
        let enqueueBatch = 1_000, leaseBatch = 500
        let completed = Completed()
        let seconds = try await measure {
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var queued = 0
                    while queued < total {
                        // Stay at most `maximumBacklog` ahead of the workers: a steady state.
                        while queued - (await completed.value) >= maximumBacklog {
                            try await Task.sleep(for: .milliseconds(1))
                        }
                        let count = min(enqueueBatch, total - queued)
                        let batch = (0..<count).map { bed.job(creators[($0 + queued) % creators.count]) }
                        _ = try await store.enqueue(batch, now: bed.clock.now)
                        queued += count
                    }
                    return 0
                }
                for worker in 0..<2 {
                    group.addTask {
                        var mine = 0
                        let request = bed.leaseRequest(worker: "bench-\(worker)", limit: leaseBatch)
                        var leases: [Lease] = []
                        while await completed.value < total {
                            if leases.isEmpty {
                                let ticket = store.workSignal.ticket(for: .image)
                                leases = try await store.leaseJobs(request, now: bed.clock.now)
                                if leases.isEmpty {
                                    await store.workSignal.wait(ticket, timeout: .milliseconds(5))
                                    continue
                                }
                            }
                            // Acknowledge the batch and fetch the next one in one round trip.
                            let (outcomes, next) = try await store.complete(
                                leases.map { Completion(token: $0.token) }, thenLease: request, now: bed.clock.now)
                            mine += outcomes.filter { $0 == .completed }.count
                            await completed.add(leases.count)
                            leases = next
                        }
                        return mine
                    }
                }
                var done = 0
                for try await count in group { done += count }
                precondition(done == total, "every job must complete exactly once")
            }
        }
        return [BenchmarkResult(
            name: "a) no-op jobs end to end, 2 workers, \(total) jobs, \(engine.label)",
            value: Double(total) / seconds, unit: "jobs/s", target: engine.throughputTarget.text,
            isMet: Double(total) / seconds >= engine.throughputTarget.jobsPerSecond)]
    }
}

/// A shared count of completed jobs.
actor Completed {
    private(set) var value = 0
    func add(_ count: Int) { value += count }
}

extension ThroughputBenchmark {
    /// Where the single writer's time goes: each phase alone, on one task, in µs per job.
    public static func phases(jobs total: Int, engine: BenchEngine) async throws -> [BenchmarkResult] {
        let bed = try await BenchmarkBed(engine: engine)
        defer { bed.remove() }
        let creators = try await bed.makeCreators(10)
        let store = bed.store
        let batches = (0..<(total / 1_000)).map { batch in
            (0..<1_000).map { bed.job(creators[($0 + batch) % creators.count]) }
        }
        let enqueue = try await measure {
            for batch in batches { _ = try await store.enqueue(batch, now: bed.clock.now) }
        }
        var leases: [Lease] = []
        let lease = try await measure {
            while true {
                let batch = try await store.leaseJobs(bed.leaseRequest(worker: "w", limit: 500), now: bed.clock.now)
                if batch.isEmpty { break }
                leases += batch
            }
        }
        let complete = try await measure {
            for start in stride(from: 0, to: leases.count, by: 500) {
                let slice = leases[start..<min(leases.count, start + 500)]
                _ = try await store.complete(slice.map { Completion(token: $0.token) }, now: bed.clock.now)
            }
        }
        let perJob = { (seconds: Double) in seconds / Double(total) * 1e6 }
        return [
            BenchmarkResult(name: "a′) phase cost, queue (batches of 1,000)", value: perJob(enqueue), unit: "µs/job", target: "—"),
            BenchmarkResult(name: "a′) phase cost, lease (batches of 500)", value: perJob(lease), unit: "µs/job", target: "—"),
            BenchmarkResult(name: "a′) phase cost, complete (batches of 500)", value: perJob(complete), unit: "µs/job", target: "—"),
        ]
    }
}
