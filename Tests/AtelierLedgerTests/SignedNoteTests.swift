import AtelierLedger
import Foundation
import Testing

/// C2SP signed notes with Ed25519: the known answer from Go's sumdb/note tests
/// (`../shared/testdata/README.md`), byte for byte, and the ways a note can be wrong.
@Suite struct SignedNoteTests {
    static let verifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let signerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let signed = text + "\n" + "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func theKnownAnswerIsReproducedByteForByte() throws {
        let signer = try NoteSigner(encoded: Self.signerKey)
        #expect(try signer.sign(Self.text) == Self.signed)
        #expect(signer.encoded == Self.signerKey)
        #expect(signer.verifier.encoded == Self.verifierKey)
        let verifier = try NoteVerifier(encoded: Self.verifierKey)
        #expect(try verifier.open(Self.signed) == Self.text)
    }

    @Test func tamperedNotesAndForeignKeysAreRejected() throws {
        let verifier = try NoteVerifier(encoded: Self.verifierKey)
        #expect(throws: LedgerError.self) { try verifier.open(Self.signed.replacingOccurrences(of: "cryptography", with: "cryptographY")) }
        #expect(throws: LedgerError.self) { try verifier.open(Self.text) }
        let stranger = try NoteSigner(name: "PeterNeumann")
        #expect(throws: LedgerError.self) { try verifier.open(try stranger.sign(Self.text)) }
        #expect(throws: LedgerError.self) { try NoteVerifier(encoded: "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") }
        #expect(throws: LedgerError.self) { try NoteSigner(encoded: "PRIVATE+KEY+Peter+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz") }
        #expect(throws: LedgerError.self) { try NoteSigner(name: "two words") }
        #expect(throws: LedgerError.self) { try stranger.sign("no newline") }
    }

    @Test func aNewKeyRoundTripsAndSignsCheckpoints() throws {
        let signer = try NoteSigner(name: "atelier.example/log")
        let again = try NoteSigner(encoded: signer.encoded)
        #expect(again.verifier.encoded == signer.verifier.encoded)
        let checkpoint = Checkpoint(origin: "atelier.example/log", size: 42, root: .leaf([1, 2, 3]))
        let note = try signer.sign(checkpoint.text)
        #expect(note.hasPrefix("atelier.example/log\n42\n\(checkpoint.root.base64)\n\n— atelier.example/log "))
        #expect(try Checkpoint.open(note, verifier: again.verifier, origin: "atelier.example/log") == checkpoint)
        #expect(throws: LedgerError.self) { try Checkpoint.open(note, verifier: again.verifier, origin: "other/log") }
        #expect(throws: LedgerError.self) { try Checkpoint(text: "origin\n-1\n\(checkpoint.root.base64)\n") }
        #expect(throws: LedgerError.self) { try Checkpoint(text: "origin\n07\n\(checkpoint.root.base64)\n") }
    }
}
