import AtelierCore
import AtelierLedger
import AtelierStore
import Foundation

/// The chain of title at volume: `entries` jobs succeed (each with one artifact), then the
/// sequencer appends them all to the log; then random inclusion proofs against the full tree,
/// and a full audit (every leaf recomputed, every stored hash and checkpoint compared).
public enum LedgerBenchmark {
    public static func run(entries: Int, engine: BenchEngine) async throws -> [BenchmarkResult] {
        let bed = try await BenchmarkBed(engine: engine)
        defer { bed.remove() }
        let store = bed.store
        let creators = try await bed.makeCreators(10)
        try await succeed(entries, bed: bed, creators: creators)

        let signer = try NoteSigner(name: "bench.atelier/ledger")
        let sequencer = LedgerSequencer(origin: signer.name, signer: signer, modelVersion: { _ in "bench-1" },
                                        batchSize: 5_000, passLimit: 50_000)
        var appended = 0
        let appendSeconds = try await measure {
            while case .sequenced(let count, _, _) = try await store.ledger.sequenceLedger(sequencer, now: Date()), count > 0 {
                appended += count
            }
        }
        // A checkpoint of the whole tree, for the audit.
        _ = try await store.ledger.sequenceLedger(sequencer, now: Date().addingTimeInterval(2))
        let size = try await store.ledger.ledgerTreeSize()
        precondition(size == Int64(entries) && appended == entries, "sequenced \(appended) of \(entries)")

        var random = SplitMix64(seed: 7)
        var proofTimes: [Double] = []
        for _ in 0 ..< 2_000 {
            let leaf = Int64(random.next() % UInt64(size))
            proofTimes.append(try await measure { _ = try await store.ledger.inclusionProof(leaf: leaf, treeSize: size) })
        }

        var report: LedgerAuditReport?
        let auditSeconds = try await measure {
            report = try await LedgerAudit(verifier: signer.verifier, origin: signer.name).run(StoreLedgerAuditSource(store: store.ledger))
        }
        precondition(report?.entries == size)
        await store.shutdown()

        let label = "\(engine.label), \(entries.formatted()) entries"
        let appendRate = Double(entries) / appendSeconds
        let p50 = percentile(proofTimes, 50) * 1000
        let p99 = percentile(proofTimes, 99) * 1000
        return [
            BenchmarkResult(name: "ledger append (\(label))", value: appendRate, unit: "entries/s", target: "≥ 20,000 entries/s",
                            isMet: appendRate >= 20_000),
            BenchmarkResult(name: "inclusion proof p50 (\(label))", value: p50, unit: "ms", target: "< 1 ms at 1 million",
                            isMet: entries >= 1_000_000 ? p50 < 1 : nil),
            BenchmarkResult(name: "inclusion proof p99 (\(label))", value: p99, unit: "ms", target: "—"),
            BenchmarkResult(name: "full ledger verify (\(label))", value: auditSeconds, unit: "s", target: "< 10 s at 1 million",
                            isMet: entries >= 1_000_000 ? auditSeconds < 10 : nil),
        ]
    }

    /// Queues, leases and completes `count` jobs in batches, each with one artifact.
    static func succeed(_ count: Int, bed: BenchmarkBed, creators: [CreatorID]) async throws {
        let batch = 1_000
        var done = 0
        while done < count {
            let size = min(batch, count - done)
            _ = try await bed.store.enqueue((0 ..< size).map { bed.job(creators[($0 + done) % creators.count]) }, now: bed.clock.now)
            var completed = 0
            while completed < size {
                let leases = try await bed.store.leaseJobs(bed.leaseRequest(worker: "bench", limit: size - completed), now: bed.clock.now)
                let completions = leases.map { lease in
                    Completion(token: lease.token, artifacts: [Artifact(
                        id: bed.ids.artifactID(), jobID: lease.job.id, name: "image.png", contentType: "image/png", byteCount: 1024,
                        sha256: LedgerEntry.sha256Hex(Array(lease.job.id.rawValue.utf8)),
                        storageKey: "\(lease.job.creatorID)/\(lease.job.id)/image.png", createdAt: bed.clock.now)])
                }
                _ = try await bed.store.complete(completions, now: bed.clock.now)
                completed += leases.count
            }
            done += size
        }
    }
}
