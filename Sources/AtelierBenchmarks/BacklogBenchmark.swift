public import AtelierStore
import AtelierCore
import Foundation

/// (d) What one lease costs with a small queue and with a million queued jobs across 10,000
/// creators; the indexes must keep the two close.
public enum BacklogBenchmark {
    public static func run(largeJobs: Int = 1_000_000, largeCreators: Int = 10_000,
                           durability: SQLiteJobStore.Durability) async throws -> [BenchmarkResult] {
        let small = try await leaseCost(jobs: 1_000, creators: 100, durability: durability)
        let large = try await leaseCost(jobs: largeJobs, creators: largeCreators, durability: durability)
        let ratio = large / small
        return [
            BenchmarkResult(name: "d) lease cost, 1,000 queued across 100 creators (median)", value: small * 1e6,
                            unit: "µs", target: "—", isMet: nil),
            BenchmarkResult(name: "d) lease cost, \(largeJobs) queued across \(largeCreators) creators (median)",
                            value: large * 1e6, unit: "µs", target: "—", isMet: nil),
            BenchmarkResult(name: "d) ratio large / small", value: ratio, unit: "×", target: "≤ 1.5×", isMet: ratio <= 1.5),
        ]
    }

    /// Median seconds per single-job lease, over 4 rounds of 500 leases each topped back up.
    static func leaseCost(jobs: Int, creators count: Int, durability: SQLiteJobStore.Durability) async throws -> Double {
        let bed = try BenchmarkBed(durability: durability)
        let housekeeping = bed.startHousekeeping()
        defer { housekeeping.cancel(); bed.remove() }
        let creators = try await bed.makeCreators(count)
        let perCreator = max(1, jobs / count)
        // Queue creator by creator so each batch touches few fair-queue rows.
        var batch: [NewJob] = []
        for creator in creators {
            for _ in 0..<perCreator {
                batch.append(bed.job(creator))
                if batch.count == 5_000 {
                    _ = try await bed.store.enqueue(batch, now: bed.clock.now)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { _ = try await bed.store.enqueue(batch, now: bed.clock.now) }
        let request = bed.leaseRequest(worker: "w", limit: 1)
        var samples: [Double] = []
        for round in 0..<4 {
            for _ in 0..<500 {
                let start = ContinuousClock.now
                _ = try await bed.store.leaseJobs(request, now: bed.clock.now)
                samples.append((ContinuousClock.now - start).seconds)
            }
            let refill = (0..<500).map { bed.job(creators[($0 + round * 500) % creators.count]) }
            _ = try await bed.store.enqueue(refill, now: bed.clock.now)
        }
        return percentile(samples, 50)
    }
}
