import AtelierStore
import AtelierCore
import Foundation

/// (b) How long a job waits from the producer's enqueue call until an idle worker holds its
/// lease. The worker parks on the store's work signal, as the in-process pool does.
public enum DispatchLatencyBenchmark {
    public static func run(samples: Int, engine: BenchEngine) async throws -> [BenchmarkResult] {
        let bed = try await BenchmarkBed(engine: engine)
        let housekeeping = bed.startHousekeeping()
        defer { housekeeping.cancel(); bed.remove() }
        let creator = try await bed.makeCreators(1)[0]
        let store = bed.store
        let stamps = LatencyStamps()
        // The worker says when it has finished a job; the next one is queued only then (and
        // 2 ms later), so every sample finds the worker idle and parked, whatever its speed.
        let (idle, idleContinuation) = AsyncStream.makeStream(of: Void.self)
        idleContinuation.yield()
        let worker = Task {
            let request = bed.leaseRequest(worker: "idle", limit: 1)
            var seen = 0
            while seen < samples {
                let ticket = store.workSignal.ticket(for: .image)
                let leases = try await store.leaseJobs(request, now: bed.clock.now)
                if let lease = leases.first {
                    await stamps.leased(lease.job.id, at: ContinuousClock.now)
                    _ = try await store.complete([Completion(token: lease.token)], now: bed.clock.now)
                    seen += 1
                    idleContinuation.yield()
                } else {
                    await store.workSignal.wait(ticket, timeout: .seconds(1))
                }
            }
        }
        var idleSignals = idle.makeAsyncIterator()
        for _ in 0..<samples {
            // Let the worker finish the last job, go idle and park before each job arrives.
            await idleSignals.next()
            try await Task.sleep(for: .milliseconds(2))
            let job = bed.job(creator)
            await stamps.queued(job.id, at: ContinuousClock.now)
            _ = try await store.enqueue([job], now: bed.clock.now)
        }
        try await worker.value
        let latencies = await stamps.latenciesInMilliseconds()
        let p50 = percentile(latencies, 50), p99 = percentile(latencies, 99)
        let label = "b) dispatch latency, idle worker, \(samples) jobs, \(engine.label)"
        return [
            BenchmarkResult(name: "\(label): p50", value: p50, unit: "ms", target: engine.dispatchP50Target.text,
                            isMet: p50 <= engine.dispatchP50Target.milliseconds),
            BenchmarkResult(name: "\(label): p99", value: p99, unit: "ms", target: engine.dispatchP99Target?.text ?? "—",
                            isMet: engine.dispatchP99Target.map { p99 <= $0.milliseconds }),
        ]
    }
}

actor LatencyStamps {
    private var queuedAt: [JobID: ContinuousClock.Instant] = [:]
    private var leasedAt: [JobID: ContinuousClock.Instant] = [:]

    func queued(_ id: JobID, at instant: ContinuousClock.Instant) { queuedAt[id] = instant }
    func leased(_ id: JobID, at instant: ContinuousClock.Instant) { leasedAt[id] = instant }

    func latenciesInMilliseconds() -> [Double] {
        queuedAt.compactMap { id, start in leasedAt[id].map { ($0 - start).seconds * 1000 } }
    }
}

