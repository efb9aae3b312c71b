import AtelierCore
import AtelierLedger
import AtelierStore
import Foundation
import Testing

/// The chain of title on every engine: a job's entry is queued in the transaction that makes it
/// succeed and in no other, the sequencer appends each once in a dense sequence, checkpoints are
/// signed no more than once per interval and never for a smaller tree, proofs from the stored
/// hashes verify, and two sequencers at once never fork the log.
@Suite struct LedgerContractTests {
    static let origin = "test.atelier/ledger"
    static let signer = try! NoteSigner(name: "test.atelier-ledger")

    static func sequencer(batch: Int = 2_000) -> LedgerSequencer {
        LedgerSequencer(origin: origin, signer: signer, modelVersion: { "\($0.rawValue)-v7" }, batchSize: batch)
    }

    /// Leases `count` jobs of a fresh creator and completes each with one artifact.
    static func succeed(_ h: StoreHarness, _ count: Int, creator: CreatorID) async throws -> [(JobID, Artifact)] {
        try await h.enqueue((0 ..< count).map { _ in h.newJob(creator) })
        var done: [(JobID, Artifact)] = []
        for lease in try await h.lease(count) {
            let bytes = Array("image of \(lease.job.id)".utf8)
            let artifact = Artifact(id: h.ids.artifactID(), jobID: lease.job.id, name: "image.png", contentType: "image/png",
                                    byteCount: bytes.count, sha256: LedgerEntry.sha256Hex(bytes),
                                    storageKey: "\(creator)/\(lease.job.id)/image.png", createdAt: h.clock.now)
            #expect(try await h.store.complete([Completion(token: lease.token, artifacts: [artifact])], now: h.clock.now) == [.completed])
            done.append((lease.job.id, artifact))
        }
        return done
    }

    @Test(arguments: StoreEngine.all)
    func succeededJobsAreSequencedOnceAndProvable(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let ledger = h.store.ledger
        let creator = try await h.makeCreator("alice")
        let done = try await Self.succeed(h, 7, creator: creator)
        // Jobs that end any other way are never queued; a stale completion queues nothing twice.
        let failed = try #require(try await h.enqueue([h.newJob(creator, maxAttempts: 1)]).first)
        let failedLease = try #require(try await h.lease().first)
        #expect(failedLease.job.id == failed.id)
        _ = try await h.store.fail(failedLease.token, error: JobError(code: "x", message: "y"), retryAt: nil, now: h.clock.now)
        let canceled = try #require(try await h.enqueue([h.newJob(creator)]).first)
        _ = try await h.store.cancel(id: canceled.id, scope: .operator, now: h.clock.now)
        #expect(try await h.store.complete([Completion(token: failedLease.token)], now: h.clock.now) == [.leaseLost])

        for (id, _) in done { #expect(try await ledger.isLedgerEntryQueued(job: id)) }
        #expect(try await !ledger.isLedgerEntryQueued(job: failed.id))
        #expect(try await !ledger.isLedgerEntryQueued(job: canceled.id))
        #expect(try await ledger.ledgerTreeSize() == 0)
        #expect(try await ledger.latestLedgerCheckpoint() == nil)

        guard case .sequenced(let appended, let size, let signed?) = try await ledger.sequenceLedger(Self.sequencer(batch: 3), now: h.clock.now)
        else { Issue.record("expected a signed sequencing pass"); return }
        #expect(appended == 7 && size == 7)
        let checkpoint = try Checkpoint.open(signed.note, verifier: Self.signer.verifier, origin: Self.origin)
        #expect(checkpoint.size == 7)
        #expect(try await ledger.latestLedgerCheckpoint() == signed)

        let leaves = try await ledger.ledgerLeaves(from: 0, count: 100)
        #expect(leaves.map(\.index) == Array(0 ..< 7))
        #expect(Set(leaves.map(\.jobID)) == Set(done.map(\.0)))
        for (id, artifact) in done {
            #expect(try await !ledger.isLedgerEntryQueued(job: id))
            let leaf = try #require(try await ledger.ledgerLeaf(job: id))
            let reading = try LedgerEntryReading(bytes: leaf.entry)
            #expect(reading.job_id == id.rawValue && reading.creator_id == creator.rawValue)
            #expect(reading.outputs.map(\.sha256) == [artifact.sha256])
            let text = String(decoding: leaf.entry, as: UTF8.self)
            #expect(text.contains(#""model":{"id":"builtin","version":"builtin-v7"}"#))
            #expect(!text.contains("a red fox"), "the prompt itself stays off the log")
            let proof = try await ledger.inclusionProof(leaf: leaf.index, treeSize: 7)
            try MerkleVerifier.verifyInclusion(leafIndex: leaf.index, treeSize: 7, leafHash: MerkleHash.leaf(leaf.entry).bytes,
                                               proof: proof.map(\.bytes), root: checkpoint.root.bytes)
        }

        // Nothing new: nothing appended, nothing signed.
        #expect(try await ledger.sequenceLedger(Self.sequencer(), now: h.clock.now.addingTimeInterval(5))
            == .sequenced(appended: 0, treeSize: 7, signed: nil))
        // More jobs within the interval are appended but not yet signed; after it, they are.
        _ = try await Self.succeed(h, 5, creator: creator)
        #expect(try await ledger.sequenceLedger(Self.sequencer(), now: signed.createdAt.addingTimeInterval(0.5))
            == .sequenced(appended: 5, treeSize: 12, signed: nil))
        guard case .sequenced(0, 12, let second?) = try await ledger.sequenceLedger(Self.sequencer(), now: signed.createdAt.addingTimeInterval(1.5))
        else { Issue.record("expected a second checkpoint"); return }
        let secondCheckpoint = try Checkpoint.open(second.note, verifier: Self.signer.verifier)
        let consistency = try await ledger.consistencyProof(from: 7, to: 12)
        try MerkleVerifier.verifyConsistency(from: 7, to: 12, root1: checkpoint.root.bytes, root2: secondCheckpoint.root.bytes,
                                             proof: consistency.map(\.bytes))
        #expect(try await ledger.rootHash(treeSize: 7) == checkpoint.root)
        #expect(try await ledger.ledgerCheckpoints(from: 0, limit: 10).map(\.treeSize) == [7, 12])

        // The whole log audits clean, and again after a restart, which also keeps sequencing.
        let report = try await LedgerAudit(verifier: Self.signer.verifier, origin: Self.origin).run(StoreLedgerAuditSource(store: ledger))
        #expect(report.entries == 12 && report.checkpoints == 2)
        var restarted = h
        try await restarted.restart()
        _ = try await Self.succeed(restarted, 2, creator: creator)
        #expect(try await restarted.store.ledger.sequenceLedger(Self.sequencer(), now: signed.createdAt.addingTimeInterval(3)).treeSize == 14)
        let after = try await LedgerAudit(verifier: Self.signer.verifier, pinned: secondCheckpoint)
            .run(StoreLedgerAuditSource(store: restarted.store.ledger))
        #expect(after.entries == 14 && after.checkpoints == 3)
    }

    @Test(arguments: StoreEngine.all)
    func twoSequencersAtOnceNeverForkTheLog(engine: StoreEngine) async throws {
        let h = try await StoreHarness(engine)
        let other = try await engine.open(h.directory, .unlimited)
        let creator = try await h.makeCreator("bob")
        let start = h.clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0 ..< 12 { _ = try await Self.succeed(h, 10, creator: creator); _ = round }
            }
            for (index, store) in [h.store, other].enumerated() {
                group.addTask {
                    for round in 0 ..< 40 {
                        _ = try await store.ledger.sequenceLedger(
                            Self.sequencer(batch: 7), now: start.addingTimeInterval(Double(round) + Double(index) / 2))
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = try await h.store.ledger.sequenceLedger(Self.sequencer(), now: start.addingTimeInterval(100))
        let leaves = try await h.store.ledger.ledgerLeaves(from: 0, count: 1_000)
        #expect(leaves.map(\.index) == Array(0 ..< 120))
        #expect(Set(leaves.map(\.jobID)).count == 120)
        let report = try await LedgerAudit(verifier: Self.signer.verifier, origin: Self.origin)
            .run(StoreLedgerAuditSource(store: other.ledger))
        #expect(report.entries == 120 && report.checkpoints >= 2)
        await other.shutdown()
    }
}

extension LedgerSequencing {
    var treeSize: Int64? {
        if case .sequenced(_, let size, _) = self { size } else { nil }
    }
}
