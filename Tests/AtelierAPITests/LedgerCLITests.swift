import AtelierLedger
import AtelierWire
import Foundation
import GRDB
import Testing

/// `atelier ledger verify` and `atelier provenance verify` as users run them, against a log
/// made by a real server: a clean log passes, and every kind of tampering is caught and named.
@Suite("Ledger audits with the atelier binary", .serialized)
struct LedgerCLITests {
    @Test("a clean log verifies; a changed, deleted or swapped entry, a foreign checkpoint and a rollback are each named")
    func auditsCatchTampering() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-ledger-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var key = ""
        try await withServer(workers: 1, configure: {
            $0.dataDirectory = directory
            $0.ledgerInterval = .milliseconds(50)
        }) { server in
            let anonymous = server.client(nil)
            key = try await anonymous.send(.GET, "/v1/ledger/key").text.trimmingCharacters(in: .whitespacesAndNewlines)
            let (alice, _) = try await server.creator()
            // Two waves of three jobs, each covered by a checkpoint of its own.
            for wave in 0 ..< 2 {
                for seed in 1 ... 3 {
                    let job = try await alice.submit(smallImage(seed: UInt32(wave * 10 + seed)))
                    _ = try await alice.waitForJob(job.id) { $0.status.isTerminal }
                    _ = try await LedgerAPITests.receipt(alice, job.id)
                }
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    let listed = try await anonymous.send(.GET, "/v1/ledger/checkpoints").decode(ListBody<CheckpointResource>.self)
                    if listed.data.last?.treeSize == Int64(3 * (wave + 1)) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }

            // The live server audits clean through its public API with the key pinned; another key fails.
            let audit = try await AtelierProcess.run(["ledger", "verify", "--server", server.url, "--key", key])
            #expect(audit.status == 0, "\(audit.stderr)")
            #expect(audit.stdout.contains("ledger OK: 6 entries"), "\(audit.stdout)")
            let stranger = try NoteSigner(name: "atelier.local/ledger").verifier.encoded
            let wrongKey = try await AtelierProcess.run(["ledger", "verify", "--server", server.url, "--key", stranger])
            #expect(wrongKey.status == 1 && wrongKey.stderr.contains("does not verify"), "\(wrongKey.stderr)")
        }

        // The stopped server's database, as the operator has it.
        let clean = try await AtelierProcess.run(["ledger", "verify", "--data-dir", directory.path, "--key", key])
        #expect(clean.status == 0, "\(clean.stderr)")
        let checkpointCount = try Self.query(directory, "SELECT COUNT(*) FROM ledger_checkpoints")
        #expect(clean.stdout.contains("ledger OK: 6 entries, \(checkpointCount) checkpoints"), "\(clean.stdout)")
        // Checkpoints are signed at most once a second, so their sizes depend on timing: read them.
        let firstSigned = try Self.query(directory, "SELECT MIN(tree_size) FROM ledger_checkpoints")
        let firstAfterFour = try Self.query(directory, "SELECT MIN(tree_size) FROM ledger_checkpoints WHERE tree_size > 4")
        #expect(firstAfterFour == "6" || firstAfterFour == "5")
        let pinnedFile = directory.appendingPathComponent("seen-checkpoint")
        let latestNote = try String(Self.query(directory, "SELECT note FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1"))
        try latestNote.write(to: pinnedFile, atomically: true, encoding: .utf8)

        let cases: [(name: String, tamper: String, expect: String, pin: Bool)] = [
            ("one byte of an entry", "UPDATE ledger_entries SET entry = CAST(replace(CAST(entry AS TEXT), '\"v\":1', '\"v\":2') AS BLOB) WHERE leaf_index = 2",
             "entry 2 (job", false),
            ("a deleted entry", "DELETE FROM ledger_entries WHERE leaf_index = 3", "entry 3 is missing", false),
            ("two swapped entries", """
                UPDATE ledger_entries SET leaf_index = -1 WHERE leaf_index = 1;
                UPDATE ledger_entries SET leaf_index = 1 WHERE leaf_index = 4;
                UPDATE ledger_entries SET leaf_index = 4 WHERE leaf_index = -1
                """, "entry 1 (job", false),
            ("a checkpoint signed by another key", "", "checkpoint filed at tree size \(firstSigned) does not verify", false),
            ("entries removed from the end", "DELETE FROM ledger_entries WHERE leaf_index >= 4",
             "checkpoint at tree size \(firstAfterFour) is larger than the log's 4 entries", false),
            ("a rollback of entries, hashes and checkpoints", """
                DELETE FROM ledger_entries WHERE leaf_index >= 4;
                DELETE FROM ledger_hashes WHERE id >= \(StoredHashIndex.count(forTreeSize: 4));
                DELETE FROM ledger_checkpoints WHERE tree_size > 4
                """, "the pinned checkpoint at tree size 6 is larger than the log's 4 entries", true),
        ]
        for scenario in cases {
            let copy = directory.deletingLastPathComponent().appendingPathComponent("atelier-tampered-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: copy) }
            try FileManager.default.copyItem(at: directory, to: copy)
            let database = try DatabaseQueue(path: copy.appendingPathComponent("atelier.sqlite").path)
            if scenario.tamper.isEmpty {
                // The same checkpoint body, signed by a key the auditor does not pin.
                let note: String = try await database.read { db in
                    try String.fetchOne(db, sql: "SELECT note FROM ledger_checkpoints WHERE tree_size = \(firstSigned)")!
                }
                let body = String(note[..<note.range(of: "\n\n")!.lowerBound]) + "\n"
                let forged = try NoteSigner(name: "atelier.local/ledger").sign(body)
                try await database.write { db in
                    try db.execute(sql: "UPDATE ledger_checkpoints SET note = ? WHERE tree_size = \(firstSigned)", arguments: [forged])
                }
            } else {
                try await database.write { db in try db.execute(sql: scenario.tamper) }
            }
            try database.close()
            var arguments = ["ledger", "verify", "--data-dir", copy.path, "--key", key]
            if scenario.pin { arguments += ["--checkpoint", pinnedFile.path] }
            let result = try await AtelierProcess.run(arguments)
            #expect(result.status == 1, "\(scenario.name): \(result.stdout)")
            #expect(result.stderr.contains("ledger verify FAILED") && result.stderr.contains(scenario.expect),
                    "\(scenario.name): \(result.stderr)")
        }
    }

    @Test("provenance verify accepts the file a receipt names and rejects any other file or key")
    func provenanceVerify() async throws {
        try await withServer(workers: 1, configure: { $0.ledgerInterval = .milliseconds(50) }) { server in
            let key = try await server.client(nil).send(.GET, "/v1/ledger/key").text.trimmingCharacters(in: .whitespacesAndNewlines)
            let (alice, creator) = try await server.creator()
            let job = try await alice.submit(smallImage())
            let done = try await alice.waitForJob(job.id) { $0.status.isTerminal }
            let artifact = try #require(done.artifacts.first)
            _ = try await LedgerAPITests.receipt(alice, job.id)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-provenance-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let image = folder.appendingPathComponent("fox.png")
            try await alice.send(.GET, "/v1/artifacts/\(artifact.id)").body.write(to: image)
            let receipt = folder.appendingPathComponent("receipt.json")
            try await alice.send(.GET, "/v1/jobs/\(job.id)/provenance").body.write(to: receipt)
            let other = folder.appendingPathComponent("other.png")
            try Data("not the fox".utf8).write(to: other)

            let offline = try await AtelierProcess.run(["provenance", "verify", image.path, "--receipt", receipt.path, "--key", key])
            #expect(offline.status == 0, "\(offline.stderr)")
            #expect(offline.stdout.contains("verified:") && offline.stdout.contains(job.id) && offline.stdout.contains(artifact.name))
            let online = try await AtelierProcess.run(["provenance", "verify", image.path, "--server", server.url, "--job", job.id,
                                                       "--key", key], environment: ["ATELIER_API_KEY": creator.apiKey ?? ""])
            #expect(online.status == 0, "\(online.stderr)")

            let wrongFile = try await AtelierProcess.run(["provenance", "verify", other.path, "--receipt", receipt.path, "--key", key])
            #expect(wrongFile.status == 1 && wrongFile.stderr.contains("is not an output of job"), "\(wrongFile.stderr)")
            let stranger = try NoteSigner(name: "atelier.local/ledger").verifier.encoded
            let wrongKey = try await AtelierProcess.run(["provenance", "verify", image.path, "--receipt", receipt.path, "--key", stranger])
            #expect(wrongKey.status == 1 && wrongKey.stderr.contains("NOT VERIFIED"), "\(wrongKey.stderr)")
            let badKey = try await AtelierProcess.run(["provenance", "verify", image.path, "--receipt", receipt.path, "--key", "nonsense"])
            #expect(badKey.status != 0 && badKey.stderr.contains("--key"), "\(badKey.stderr)")
        }
    }

    static func query(_ directory: URL, _ sql: String) throws -> String {
        let database = try DatabaseQueue(path: directory.appendingPathComponent("atelier.sqlite").path)
        defer { try? database.close() }
        return try database.read { db in try DatabaseValue.fetchOne(db, sql: sql).map { "\($0.storage.value ?? "")" } ?? "" }
    }
}

@Suite("atelier ledger keygen")
struct LedgerKeygenTests {
    @Test("keygen prints a signer key that a server accepts and whose verifier it publishes")
    func keygenMakesAUsableKey() async throws {
        let made = try await AtelierProcess.run(["ledger", "keygen", "--name", "studio.example/ledger"])
        #expect(made.status == 0, "\(made.stderr)")
        let signer = try NoteSigner(encoded: made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(signer.name == "studio.example/ledger")
        #expect(made.stderr.contains(signer.verifier.encoded))
        let bad = try await AtelierProcess.run(["ledger", "keygen", "--name", "two words"])
        #expect(bad.status != 0 && bad.stderr.contains("--name"), "\(bad.stderr)")

        try await withServer(configure: {
            $0.ledgerKey = signer.encoded
            $0.ledgerOrigin = "studio.example/ledger"
        }) { server in
            let published = try await server.client(nil).send(.GET, "/v1/ledger/key").text
            #expect(published == signer.verifier.encoded + "\n")
        }
    }
}
