public import AtelierStore
import AtelierCore
import Foundation

/// (a) No-op jobs end to end through the store: a producer queues in batches while two worker
/// tasks lease and complete in batches, until every job has completed.
public enum ThroughputBenchmark {
    public static func run(jobs total: Int, durability: SQLiteJobStore.Durability) async throws -> [BenchmarkResult] {
        let bed = try BenchmarkBed(durability: durability)
        let housekeeping = bed.startHousekeeping()
        defer { housekeeping.cancel(); bed.remove() }
        let creators = try await bed.makeCreators(10)
        let store = bed.store
        let enqueueBatch = 1_000, leaseBatch = 500
        let seconds = try await measure {
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var queued = 0
                    while queued < total {
                        let count = min(enqueueBatch, total - queued)
                        let batch = (0..<count).map { bed.job(creators[($0 + queued) % creators.count]) }
                        _ = try await store.enqueue(batch, now: bed.clock.now)
                        queued += count
                    }
                    return 0
                }
                let completed = Completed()
                for worker in 0..<2 {
                    group.addTask {
                        var mine = 0
                        let request = bed.leaseRequest(worker: "bench-\(worker)", limit: leaseBatch)
                        while await completed.value < total {
                            let ticket = store.workSignal.ticket(for: .image)
                            let leases = try await store.leaseJobs(request, now: bed.clock.now)
                            if leases.isEmpty {
                                await store.workSignal.wait(ticket, timeout: .milliseconds(5))
                                continue
                            }
                            let outcomes = try await store.complete(leases.map { Completion(token: $0.token) }, now: bed.clock.now)
                            mine += outcomes.filter { $0 == .completed }.count
                            await completed.add(leases.count)
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
            name: "a) no-op jobs end to end, 2 workers, \(total) jobs, durability \(durability.rawValue)",
            value: Double(total) / seconds, unit: "jobs/s", target: "≥ 20,000 jobs/s",
            isMet: Double(total) / seconds >= 20_000)]
    }
}

/// A shared count of completed jobs.
actor Completed {
    private(set) var value = 0
    func add(_ count: Int) { value += count }
}
