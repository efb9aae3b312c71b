import AtelierAPI
import AtelierBlobs
import AtelierLedger
import AtelierWire
import Foundation
import NIOHTTP1
import Testing

@Suite("Chain of title over HTTP")
struct LedgerAPITests {
    /// Polls a job's receipt until the sequencer has signed a checkpoint that covers it.
    static func receipt(_ api: API, _ job: String) async throws -> ProvenanceResource {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let response = try await api.send(.GET, "/v1/jobs/\(job)/provenance")
            if response.status == 200 { return try response.decode(ProvenanceResource.self) }
            #expect(response.status == 409 && response.problem?.type.hasSuffix("provenance-pending") == true, "\(response.text)")
            guard ContinuousClock.now < deadline else { throw ReceiptTimeout() }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    struct ReceiptTimeout: Error {}

    /// Checks a receipt as an offline verifier would: the entry names the file, the proof leads
    /// from the entry to the root, and the pinned key signed that root.
    static func verify(_ receipt: ProvenanceResource, file: Data, key: NoteVerifier) throws -> Checkpoint {
        let entry = try #require(Data(base64Encoded: receipt.entry))
        #expect(MerkleHash.leaf(entry).base64 == receipt.leafHash)
        let reading = try LedgerEntryReading(bytes: entry)
        #expect(reading.outputs.contains { $0.sha256 == LedgerEntry.sha256Hex(file) })
        let checkpoint = try Checkpoint.open(receipt.checkpoint, verifier: key, origin: "atelier.local/ledger")
        #expect(checkpoint.size == receipt.treeSize && checkpoint.root.base64 == receipt.rootHash)
        try MerkleVerifier.verifyInclusion(
            leafIndex: receipt.leafIndex, treeSize: receipt.treeSize, leafHash: MerkleHash.leaf(entry).bytes,
            proof: receipt.inclusionProof.map { Array(Data(base64Encoded: $0) ?? Data()) }, root: checkpoint.root.bytes)
        return checkpoint
    }

    @Test("jobs get receipts that verify offline, and two checkpoints prove consistent")
    func receiptsAndConsistency() async throws {
        try await withServer(workers: 1, configure: { $0.ledgerInterval = .milliseconds(50) }) { server in
            let anonymous = server.client(nil)
            let keyText = try await anonymous.send(.GET, "/v1/ledger/key")
            #expect(keyText.status == 200)
            let key = try NoteVerifier(encoded: keyText.text)
            #expect(key.name == "atelier.local/ledger")
            #expect(try await anonymous.send(.GET, "/v1/ledger/checkpoint").status == 404)

            let (alice, _) = try await server.creator()
            let (bob, _) = try await server.creator()
            var jobs: [JobResource] = []
            for seed in 1 ... 3 { jobs.append(try await alice.submit(smallImage(seed: UInt32(seed)))) }
            var first: Checkpoint?
            var receipts: [ProvenanceResource] = []
            for job in jobs {
                let done = try await alice.waitForJob(job.id) { $0.status.isTerminal }
                #expect(done.status == .succeeded)
                let artifact = try #require(done.artifacts.first)
                let file = try await alice.send(.GET, "/v1/artifacts/\(artifact.id)").body
                let receipt = try await Self.receipt(alice, job.id)
                first = try Self.verify(receipt, file: file, key: key)
                receipts.append(receipt)
                // The receipt does not vouch for another file.
                #expect(try LedgerEntryReading(bytes: Data(base64Encoded: receipt.entry)!).outputs
                    .allSatisfy { $0.sha256 != LedgerEntry.sha256Hex(Data("other".utf8)) })
            }
            #expect(Set(receipts.map(\.leafIndex)) == [0, 1, 2])
            // Another creator cannot see alice's receipt; an admin can.
            #expect(try await bob.send(.GET, "/v1/jobs/\(jobs[0].id)/provenance").status == 404)
            #expect(try await server.client(TestServer.adminKey).send(.GET, "/v1/jobs/\(jobs[0].id)/provenance").status == 200)

            // More work, a later checkpoint, and a consistency proof between the two.
            let firstCheckpoint = try #require(first)
            let more = try await alice.submit(smallImage(seed: 9))
            _ = try await alice.waitForJob(more.id) { $0.status.isTerminal }
            var second = try Checkpoint(text: try key.open(try await anonymous.send(.GET, "/v1/ledger/checkpoint").text))
            let deadline = ContinuousClock.now + .seconds(30)
            while second.size < 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                second = try Checkpoint(text: try key.open(try await anonymous.send(.GET, "/v1/ledger/checkpoint").text))
            }
            #expect(second.size == 4)
            let consistency = try await anonymous.send(.GET, "/v1/ledger/proof/consistency?from=\(firstCheckpoint.size)&to=\(second.size)")
            #expect(consistency.status == 200)
            let proof = try consistency.decode(ConsistencyProofResource.self)
            try MerkleVerifier.verifyConsistency(from: firstCheckpoint.size, to: second.size, root1: firstCheckpoint.root.bytes,
                                                 root2: second.root.bytes, proof: proof.proof.map { Array(Data(base64Encoded: $0)!) })
            let listed = try await anonymous.send(.GET, "/v1/ledger/checkpoints").decode(ListBody<CheckpointResource>.self)
            #expect(listed.data.map(\.treeSize).last == 4)

            // Tiles: the entry bundle holds the receipts' entries; the level-0 tile their leaf hashes.
            let bundle = try await anonymous.send(.GET, "/v1/ledger/tile/entries/000.p/4")
            #expect(bundle.status == 200)
            var entries: [Data] = []
            var offset = 0
            while offset + 2 <= bundle.body.count {
                let length = Int(bundle.body[offset]) << 8 | Int(bundle.body[offset + 1])
                entries.append(bundle.body.subdata(in: offset + 2 ..< offset + 2 + length))
                offset += 2 + length
            }
            #expect(entries.count == 4)
            for receipt in receipts { #expect(entries[Int(receipt.leafIndex)].base64EncodedString() == receipt.entry) }
            let hashes = try await anonymous.send(.GET, "/v1/ledger/tile/0/000.p/4")
            #expect(hashes.body == Data(entries.flatMap { MerkleHash.leaf($0).bytes }))

            // Bad input is a clear problem.
            #expect(try await anonymous.send(.GET, "/v1/ledger/proof/consistency?from=0&to=4").status == 422)
            #expect(try await anonymous.send(.GET, "/v1/ledger/proof/consistency?from=2&to=99").status == 422)
            #expect(try await anonymous.send(.GET, "/v1/ledger/proof/consistency?from=x&to=4").status == 422)
            #expect(try await anonymous.send(.GET, "/v1/ledger/tile/0/000.p/99").status == 404)
            #expect(try await anonymous.send(.GET, "/v1/ledger/tile/0/001").status == 404)
            #expect(try await anonymous.send(.GET, "/v1/ledger/tile/../../etc/passwd").status == 404)
        }
    }

    @Test("a job that has not succeeded has no receipt")
    func noReceiptBeforeSuccess() async throws {
        try await withServer(workers: 0) { server in
            let (alice, _) = try await server.creator()
            let job = try await alice.submit(smallImage())
            let response = try await alice.send(.GET, "/v1/jobs/\(job.id)/provenance")
            #expect(response.status == 409)
            #expect(response.problem?.type.hasSuffix("job-not-succeeded") == true)
        }
    }
}

@Suite("The ledger key")
struct LedgerKeyTests {
    @Test("a node with another ledger key than the log's refuses to start, naming both keys")
    func oneLogOneKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-ledger-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = ServerConfiguration(dataDirectory: directory, port: 0, workers: 0, adminKey: TestServer.adminKey)
        let first = try await AtelierServer.open(configuration: configuration)
        let key = try String(contentsOf: directory.appendingPathComponent("ledger.key"), encoding: .utf8)
        #expect(key.hasPrefix("PRIVATE+KEY+atelier.local/ledger+"))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("ledger.key").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        await first.services.store.shutdown()

        // The same key again (from the file, or given in configuration) is fine.
        configuration.ledgerKey = key.trimmingCharacters(in: .whitespacesAndNewlines)
        let again = try await AtelierServer.open(configuration: configuration)
        await again.services.store.shutdown()

        let other = try NoteSigner(name: "atelier.local/ledger")
        configuration.ledgerKey = other.encoded
        do {
            let refused = try await AtelierServer.open(configuration: configuration)
            await refused.services.store.shutdown()
            Issue.record("a node with another ledger key started")
        } catch {
            #expect("\(error)".contains(other.verifier.encoded) && "\(error)".contains("ATELIER_LEDGER_KEY"), "\(error)")
        }
    }
}
