import AtelierBlobs
import AtelierCore
import Foundation
import Testing

@Suite struct FileBlobStoreTests {
    let creator = CreatorID(rawValue: "alice")!
    let job = JobID(rawValue: "01a3185c-5001-7002-9705-b8770b3d7dd5")!

    private func makeStore() throws -> (FileBlobStore, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-blobs-\(UUID().uuidString)")
        return (try FileBlobStore(root: root), root)
    }

    @Test(arguments: ["", ".", "..", ".hidden", "a/b", "a\\b", "../../etc/passwd", "na me", "ünï.png",
                      String(repeating: "x", count: 129)])
    func unsafeNamesAreRejected(name: String) {
        #expect(throws: ValidationError.self) { try BlobKey(creator: creator, job: job, name: name) }
    }

    @Test(arguments: ["alice/job/../x", "alice/job", "alice/job/x/y", "../job/x", "alice//x"])
    func storedKeysAreReparsedStrictly(raw: String) {
        #expect(BlobKey(rawValue: raw) == nil)
    }

    @Test func objectsRoundTripUnderTheTenantPrefix() async throws {
        let (store, root) = try makeStore()
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        let data = Data("abc".utf8)
        let stored = try await store.put(data, at: key)
        // NIST's SHA-256 example for "abc".
        #expect(stored.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(stored.byteCount == 3)
        #expect(try await store.get(key) == data)
        #expect(try await store.head(key) == 3)
        #expect(FileManager.default.fileExists(atPath: root.path + "/alice/\(job)/output.png"))
        #expect(BlobKey(rawValue: key.rawValue) == key)
        try await store.delete(key)
        #expect(try await store.head(key) == nil)
        await #expect(throws: BlobError.self) { try await store.get(key) }
        try await store.delete(key)  // deleting twice is fine
    }

    @Test func overwritesAreAtomicAndLeaveNoTemporaryFiles() async throws {
        let (store, root) = try makeStore()
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        _ = try await store.put(Data(repeating: 1, count: 100_000), at: key)
        _ = try await store.put(Data(repeating: 2, count: 10), at: key)
        #expect(try await store.get(key) == Data(repeating: 2, count: 10))
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path + "/alice/\(job)")
        #expect(files == ["output.png"])
    }
}
