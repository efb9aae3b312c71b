import ArgumentParser
import AtelierClient
import AtelierCore
import AtelierLedger
import AtelierStore
import AtelierWire
import Foundation
import Logging

/// `atelier ledger …`: auditing the chain of title.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Audit the chain-of-title ledger, or make its signer key.",
        subcommands: [Verify.self, Keygen.self]
    )

    /// A signer key for a distributed deployment, where every node needs the same one.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen",
            abstract: "Print a new Ed25519 ledger signer key (for ATELIER_LEDGER_KEY); its verifier key goes to stderr."
        )

        @Option(help: "The key name: the ledger origin the nodes use (ATELIER_LEDGER_ORIGIN).")
        var name = "atelier.local/ledger"

        func run() throws {
            let signer: NoteSigner
            do { signer = try NoteSigner(name: name) } catch { throw CLIFailure("--name: \(error)") }
            print(signer.encoded)
            printError("verifier key (publish it; GET /v1/ledger/key serves it too): \(signer.verifier.encoded)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Full audit: recompute every leaf, rebuild the tree, check every checkpoint's signature and consistency.",
            discussion: "Exits 1 and names the first entry or checkpoint that is wrong."
        )

        @Option(help: "Audit the database of this data directory directly.") var dataDir: String?
        @Option(help: "Audit this PostgreSQL database directly.") var database: String?
        @Option(help: "Audit a server through its public ledger API.") var server: String?
        @Option(help: "The verifier key to pin (name+id+key); default: the data directory's ledger.key, or the server's.")
        var key: String?
        @Option(help: "The checkpoint origin to require.") var origin: String?
        @Option(help: "A signed checkpoint saved earlier: the log must still extend it (catches a rollback).")
        var checkpoint: String?

        func run() async throws {
            let sources = [dataDir, database, server].compactMap { $0 }
            guard sources.count == 1 else { throw CLIFailure("give exactly one of --data-dir, --database or --server") }
            var verifier = try key.map { try NoteVerifier(encoded: $0) }
            var store: (any JobStore)? = nil
            let source: any LedgerAuditSource
            if let server {
                guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
                    throw CLIFailure("the server URL must start with http:// or https:// (got \(server))")
                }
                let transport = HTTPTransport(baseURL: server, apiKey: nil, client: .interactive)
                if verifier == nil {
                    let (_, body) = try await transport.send(.GET, "/v1/ledger/key")
                    verifier = try NoteVerifier(encoded: String(decoding: body, as: UTF8.self))
                    printError("note: trusting the key the server presents; pin it with --key for an independent audit")
                }
                source = try await HTTPLedgerAuditSource(server: server, client: transport)
            } else if let database {
                guard let verifier else { throw CLIFailure("--key is required with --database") }
                _ = verifier
                var logger = Logger(label: "atelier.ledger")
                logger.logLevel = .critical
                let opened = try await PostgresJobStore(url: database, logger: logger)
                store = opened
                source = StoreLedgerAuditSource(store: opened.ledger)
            } else {
                let directory = URL(fileURLWithPath: dataDir!, isDirectory: true)
                let file = directory.appendingPathComponent("atelier.sqlite")
                guard FileManager.default.fileExists(atPath: file.path) else {
                    throw CLIFailure("no Atelier database in \(directory.path)")
                }
                if verifier == nil {
                    let keyFile = directory.appendingPathComponent("ledger.key")
                    guard let text = try? String(contentsOf: keyFile, encoding: .utf8) else {
                        throw CLIFailure("no --key given and no ledger.key in \(directory.path)")
                    }
                    verifier = try NoteSigner(encoded: text).verifier
                }
                let opened = try SQLiteJobStore(path: file.path)
                store = opened
                source = StoreLedgerAuditSource(store: opened.ledger)
            }
            let pinned = try checkpoint.map { path in
                guard let note = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIFailure("cannot read \(path)") }
                return try Checkpoint.open(note, verifier: verifier!)
            }
            let started = ContinuousClock.now
            let report: LedgerAuditReport
            do {
                report = try await LedgerAudit(verifier: verifier!, origin: origin, pinned: pinned).run(source)
            } catch let error as LedgerError {
                await store?.shutdown()
                throw CLIFailure("ledger verify FAILED: \(error.message)")
            } catch {
                await store?.shutdown()
                throw error
            }
            await store?.shutdown()
            let elapsed = ContinuousClock.now - started
            let latest = report.latest.map { "latest checkpoint: tree size \($0.size), root \($0.root.base64)" } ?? "no checkpoint yet"
            print("ledger OK: \(report.entries) entries, \(report.checkpoints) checkpoints verified in \(elapsed); \(latest)")
        }
    }
}

/// `atelier provenance verify`: checks one file against a job's receipt, offline.
struct ProvenanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provenance", abstract: "Check where a file came from.", subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check that FILE is an output of a job's ledger entry, that the entry is in the signed tree, and who signed it."
        )

        @Argument(help: "The file to check.") var file: String
        @Option(help: "A saved receipt (the JSON of GET /v1/jobs/{id}/provenance).") var receipt: String?
        @Option(help: "Fetch the receipt from this server (with --job and ATELIER_API_KEY or --api-key).") var server: String?
        @Option(help: "The job whose receipt to fetch.") var job: String?
        @Option(help: "API key for --server (default: $ATELIER_API_KEY).") var apiKey: String?
        @Option(help: "The ledger's verifier key to pin (name+id+key, as GET /v1/ledger/key shows it).") var key: String

        func run() async throws {
            let verifier: NoteVerifier
            do { verifier = try NoteVerifier(encoded: key) } catch { throw CLIFailure("--key: \(error)") }
            guard let content = FileManager.default.contents(atPath: file) else { throw CLIFailure("cannot read \(file)") }
            let resource: ProvenanceResource
            if let receipt {
                guard let data = FileManager.default.contents(atPath: receipt),
                      let decoded = try? WireCoding.decoder().decode(ProvenanceResource.self, from: data)
                else { throw CLIFailure("\(receipt) is not a provenance receipt") }
                resource = decoded
            } else if let server, let job {
                let key = apiKey ?? ProcessInfo.processInfo.environment["ATELIER_API_KEY"]
                let transport = HTTPTransport(baseURL: server, apiKey: key, client: .interactive)
                resource = try await transport.call(.GET, "/v1/jobs/\(job)/provenance", as: ProvenanceResource.self)
            } else {
                throw CLIFailure("give --receipt FILE, or --server URL with --job ID")
            }
            let outcome = try ProvenanceCheck.check(resource, file: [UInt8](content), verifier: verifier)
            print("verified: \(file) is output \"\(outcome.output)\" of job \(outcome.jobID) (creator \(outcome.creatorID)), "
                + "entry \(resource.leafIndex) of the tree of \(resource.treeSize) signed by \(verifier.name)")
        }
    }
}

/// The offline checks of a receipt, each failure named.
enum ProvenanceCheck {
    static func check(_ receipt: ProvenanceResource, file: [UInt8], verifier: NoteVerifier) throws
        -> (output: String, jobID: String, creatorID: String)
    {
        guard let entry = Data(base64Encoded: receipt.entry) else { throw CLIFailure("the receipt's entry is not base64") }
        let reading: LedgerEntryReading
        do { reading = try LedgerEntryReading(bytes: entry) } catch { throw CLIFailure("the receipt's entry is not a ledger entry") }
        let digest = LedgerEntry.sha256Hex(file)
        guard let output = reading.outputs.first(where: { $0.sha256 == digest }) else {
            throw CLIFailure("NOT VERIFIED: the file (sha256 \(digest)) is not an output of job \(reading.job_id)")
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(receipt.checkpoint, verifier: verifier) } catch {
            throw CLIFailure("NOT VERIFIED: the receipt's checkpoint: \(error.message)")
        }
        guard checkpoint.size == receipt.treeSize else {
            throw CLIFailure("NOT VERIFIED: the checkpoint signs tree size \(checkpoint.size), the proof is for \(receipt.treeSize)")
        }
        do {
            try MerkleVerifier.verifyInclusion(
                leafIndex: receipt.leafIndex, treeSize: receipt.treeSize, leafHash: MerkleHash.leaf(entry).bytes,
                proof: receipt.inclusionProof.map { Array(Data(base64Encoded: $0) ?? Data()) }, root: checkpoint.root.bytes)
        } catch {
            throw CLIFailure("NOT VERIFIED: \(error.message)")
        }
        return (output.name, reading.job_id, reading.creator_id)
    }
}

private func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
