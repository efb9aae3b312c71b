import AtelierBlobs
import AtelierCore
import AtelierTestSupport
import Foundation
import Logging
import NIOCore
import Testing

/// The S3 engine against real S3-compatible servers on loopback: moto, checking the signature of
/// every request, and nanio, which also checks presigned URLs.
@Suite struct S3BlobStoreTests {
    let creator = CreatorID(rawValue: "alice")!
    let job = JobID(rawValue: "01a3185c-5001-7002-9705-b8770b3d7dd5")!

    /// A store on the shared server under a fresh key prefix, so tests do not see each other.
    private func makeStore(on kind: ThrowawayS3.Kind = .moto, secret: String? = nil, multipart: Int = 16 * 1024 * 1024,
                           presign: Bool = false) async throws -> (S3BlobStore, ThrowawayS3) {
        let server = try await ThrowawayS3.shared(kind)
        let configuration = S3Configuration(
            bucket: server.info.bucket, prefix: "t-\(UUID().uuidString.prefix(8).lowercased())",
            endpoint: URL(string: server.info.endpoint)!, region: server.info.region,
            credentials: AWSCredentials(accessKeyID: server.info.access_key_id,
                                        secretAccessKey: secret ?? server.info.secret_access_key),
            addressing: .path, multipartThreshold: multipart, partSize: 5 * 1024 * 1024, presignDownloads: presign)
        return (S3BlobStore(configuration: configuration, logger: Logger(label: "test.s3")), server)
    }

    @Test func objectsRoundTripWithSignedRequests() async throws {
        let (store, _) = try await makeStore()
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        let stored = try await store.put(Data("abc".utf8), at: key)
        #expect(stored.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(try await store.get(key) == Data("abc".utf8))
        #expect(try await store.head(key) == 3)
        try await store.put(Data("replaced".utf8), at: key)
        #expect(try await store.get(key) == Data("replaced".utf8))
        try await store.delete(key)
        #expect(try await store.head(key) == nil)
        await #expect {
            try await store.get(key)
        } throws: { error in
            (error as? BlobError)?.reason == .notFound
        }
        try await store.delete(key)  // deleting twice is fine
    }

    @Test func theServerChecksOurSignatures() async throws {
        let (store, _) = try await makeStore(secret: "not-the-secret")
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        await #expect {
            try await store.put(Data("abc".utf8), at: key)
        } throws: { error in
            "\(error)".contains("SignatureDoesNotMatch")
        }
    }

    @Test func largeObjectsGoUpInParts() async throws {
        let (store, _) = try await makeStore(multipart: 5 * 1024 * 1024)
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "film.mp4")
        var generator = SplitMix64(seed: 7)
        let data = Data((0..<(11 * 1024 * 1024)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        let stored = try await store.put(data, at: key)
        #expect(stored.byteCount == data.count)
        #expect(try await store.get(key) == data)
        // S3 names a multipart object's ETag after its part count: 11 MiB in 5 MiB parts is 3.
        #expect(try await store.entityTag(key)?.hasSuffix("-3\"") == true)
    }

    /// moto checks the signatures of header-signed requests but not of presigned URLs (with
    /// authentication on it cannot serve them at all), so presigned URLs are checked against
    /// botocore, AWS's own signer, for the same object, time and lifetime: byte for byte.
    @Test(arguments: [S3Configuration.Addressing.path, .virtualHosted])
    func presignedURLsMatchAWSsOwnSigner(_ addressing: S3Configuration.Addressing) throws {
        let configuration = S3Configuration(
            bucket: "studio-media", prefix: "renders/2026", endpoint: URL(string: "http://127.0.0.1:9000")!,
            region: "eu-central-1", credentials: AWSCredentials(accessKeyID: "AKIAATELIERTEST", secretAccessKey: "s3cr3t/+key"),
            addressing: addressing, presignDownloads: true)
        let store = S3BlobStore(configuration: configuration, logger: Logger(label: "test.s3"))
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "scene-1_final.mp4")
        for (seconds, lifetime) in [(1_795_398_027, 3600), (1_440_938_160, 60)] {
            let ours = try #require(store.presignedURL(for: key, expiresIn: TimeInterval(lifetime),
                                                       now: Date(timeIntervalSince1970: TimeInterval(seconds))))
            let base = String(ours.prefix { $0 != "?" })
            let theirs = try TestScript.run("botocore-presign.py", [base, "AKIAATELIERTEST", "s3cr3t/+key", "eu-central-1",
                                                                    String(seconds), String(lifetime)])
            #expect(ours == theirs)
        }
    }

    @Test func presignedURLsNameTheObjectUnderItsTenantPrefix() async throws {
        let (store, server) = try await makeStore(presign: true)
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        try await store.put(Data("picture".utf8), at: key)
        let url = try #require(store.presignedURL(for: key, expiresIn: 300, now: Date()))
        #expect(url.hasPrefix("\(server.info.endpoint)/\(server.info.bucket)/\(store.configuration.prefix)/alice/\(job)/output.png?"))
    }

    /// What a presigned URL promises, checked by a server that verifies them: it opens the object
    /// until it expires and not after, and any change to it — another creator's key, a longer
    /// life, another signature — makes it worthless.
    @Test func aBucketServesOurPresignedURLsUntilTheyExpireAndRefusesThemAltered() async throws {
        let (store, _) = try await makeStore(on: .checkingPresignedURLs, presign: true)
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        let bobs = try BlobKey(creator: CreatorID(rawValue: "bob")!, job: job, name: "output.png")
        try await store.put(Data("alice's picture".utf8), at: key)
        try await store.put(Data("bob's picture".utf8), at: bobs)

        let fresh = try #require(store.presignedURL(for: key, expiresIn: 300, now: Date()))
        let opened = try await plainGet(fresh)
        #expect(opened.status == 200)
        #expect(opened.text == "alice's picture")

        // Signed ten minutes ago for one minute: the signature is right, its time is up.
        let stale = try #require(store.presignedURL(for: key, expiresIn: 60, now: Date().addingTimeInterval(-600)))
        let expired = try await plainGet(stale)
        #expect(expired.status == 403)
        #expect(expired.text.contains("expired"), "\(expired.text)")

        let signature = try #require(fresh.range(of: "X-Amz-Signature=")).upperBound
        let flipped = fresh[signature] == "0" ? "1" : "0"
        let altered = [
            "another creator's object": fresh.replacingOccurrences(of: "/alice/", with: "/bob/"),
            "a longer life": fresh.replacingOccurrences(of: "X-Amz-Expires=300", with: "X-Amz-Expires=604800"),
            "another signature": fresh.replacingCharacters(in: signature...signature, with: flipped),
        ]
        for (change, url) in altered {
            #expect(url != fresh, "\(change)")
            let refused = try await plainGet(url)
            #expect(refused.status == 403, "\(change)")
            #expect(refused.text.contains("SignatureDoesNotMatch"), "\(change): \(refused.text)")
            #expect(!refused.text.contains("picture"), "\(change)")
        }
    }

    @Test func presignedLinksAreOnlyHandedOutWhenConfigured() async throws {
        let (store, _) = try await makeStore(presign: false)
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        #expect(store.presignedURL(for: key, expiresIn: 60, now: Date()) == nil)
    }

    @Test func virtualHostedAddressingPutsTheBucketInTheHostName() throws {
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"]
        var configuration = try S3Configuration(bucket: "studio-media", prefix: "renders", environment: environment)
        #expect(configuration.addressing == .virtualHosted)
        configuration.presignDownloads = true
        let store = S3BlobStore(configuration: configuration, logger: Logger(label: "test.s3"))
        defer { Task { await store.shutdown() } }
        let key = try BlobKey(creator: creator, job: job, name: "output.png")
        let url = store.presignedGET(key, expiresIn: 60, now: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(url.hasPrefix("https://studio-media.s3.eu-west-1.amazonaws.com/renders/alice/\(job)/output.png?"))
        #expect(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Feu-west-1%2Fs3%2Faws4_request"))
        #expect(url.contains("X-Amz-SignedHeaders=host"))
    }

    @Test func configurationErrorsSayWhatIsWrong() {
        #expect(throws: ValidationError.self) { try S3Configuration(bucket: "b", prefix: "", environment: [:]) }
        let keys = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]
        #expect(throws: ValidationError.self) {
            try S3Configuration(bucket: "bucket", prefix: "", environment: keys.merging(["ATELIER_S3_ENDPOINT": "ftp://x"]) { $1 })
        }
        #expect(throws: ValidationError.self) {
            try S3Configuration(bucket: "bucket", prefix: "", environment: keys.merging(["ATELIER_S3_SSE": "rot13"]) { $1 })
        }
        #expect(throws: ValidationError.self) { try StorageLocation(parsing: "s3://UPPER") }
        #expect(throws: ValidationError.self) { try StorageLocation(parsing: "s3://bucket/../etc") }
        #expect(throws: ValidationError.self) { try StorageLocation(parsing: "gs://bucket") }
        #expect((try? StorageLocation(parsing: "s3://media-bucket/studio/renders")) == .s3(bucket: "media-bucket", prefix: "studio/renders"))
        #expect((try? StorageLocation(parsing: "")) == .dataDirectory)
    }
}
