public import AtelierStore
import AtelierCore
import Foundation

/// (d) What one lease costs with a small queue and with a million queued jobs across 10,000
/// creators; the indexes must keep the two close.
///
/// Both stores are loaded first and then measured in alternating rounds, so whatever else the
/// machine does during the measurement falls on both sides alike.
public enum BacklogBenchmark {
    public static func run(largeJobs: Int = 1_000_000, largeCreators: Int = 10_000,
                           durability: SQLiteJobStore.Durability) async throws -> [BenchmarkResult] {
        let small = try await LoadedStore(jobs: 1_000, creators: 100, durability: durability)
        defer { small.bed.remove() }
        let large = try await LoadedStore(jobs: largeJobs, creators: largeCreators, durability: durability)
        defer { large.bed.remove() }
        var smallSamples: [Double] = [], largeSamples: [Double] = []
        for round in 0..<8 {
            smallSamples += try await small.leaseRound(round)
            largeSamples += try await large.leaseRound(round)
        }
        let smallCost = percentile(smallSamples, 50), largeCost = percentile(largeSamples, 50)
        let ratio = largeCost / smallCost
        return [
            BenchmarkResult(name: "d) lease cost, 1,000 queued across 100 creators (median)", value: smallCost * 1e6,
                            unit: "µs", target: "—"),
            BenchmarkResult(name: "d) lease cost, \(largeJobs) queued across \(largeCreators) creators (median)",
                            value: largeCost * 1e6, unit: "µs", target: "—"),
            BenchmarkResult(name: "d) ratio large / small", value: ratio, unit: "×", target: "≤ 1.5×", isMet: ratio <= 1.5),
        ]
    }

    /// A store filled with queued jobs, spread evenly over its creators.
    struct LoadedStore {
        let bed: BenchmarkBed
        let creators: [CreatorID]

        init(jobs: Int, creators count: Int, durability: SQLiteJobStore.Durability) async throws {
            bed = try BenchmarkBed(durability: durability)
            creators = try await bed.makeCreators(count)
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
            // Let the bulk load settle: checkpoint its WAL now rather than during the measurement.
            try await bed.store.performHousekeeping()
        }

        /// Seconds per single-job lease over 250 leases, then the queue is topped back up.
        func leaseRound(_ round: Int) async throws -> [Double] {
            let request = bed.leaseRequest(worker: "w", limit: 1)
            var samples: [Double] = []
            for _ in 0..<250 {
                let start = ContinuousClock.now
                _ = try await bed.store.leaseJobs(request, now: bed.clock.now)
                samples.append((ContinuousClock.now - start).seconds)
            }
            let refill = (0..<250).map { bed.job(creators[($0 + round * 250) % creators.count]) }
            _ = try await bed.store.enqueue(refill, now: bed.clock.now)
            try await bed.store.performHousekeeping()
            return samples
        }
    }
}
