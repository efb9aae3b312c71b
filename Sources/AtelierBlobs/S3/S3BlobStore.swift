import AsyncHTTPClient
import AtelierCore
import Crypto
public import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The blob store on an S3-compatible object store, over async-http-client, every request
/// signed with our SigV4. Objects keep the tenant layout `[prefix/]creator/job/name`.
///
/// A PUT replaces an object atomically (S3 guarantees a reader sees the old or the new
/// object), so the `BlobStore` contract holds. Large objects go up as a multipart upload,
/// which S3 also makes visible all at once on completion; a failed upload is aborted.
public final class S3BlobStore: BlobStore {
    public let configuration: S3Configuration
    private let client: HTTPClient
    private let signer: SigV4
    private let logger: Logger
    /// Largest object a GET reads into memory.
    private let readLimit = 2 * 1024 * 1024 * 1024

    public init(configuration: S3Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        signer = SigV4(credentials: configuration.credentials, region: configuration.region, service: "s3",
                       normalizesPath: false)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    // MARK: BlobStore

    @discardableResult
    public func put(_ data: Data, at key: BlobKey) async throws -> StoredBlob {
        let digest = SHA256Hex.digest(data)
        if data.count > configuration.multipartThreshold {
            try await putMultipart(data, at: key)
        } else {
            var headers = [("Content-Type", "application/octet-stream")]
            if let encryption = configuration.serverSideEncryption { headers.append(("x-amz-server-side-encryption", encryption)) }
            let response = try await send("PUT", key: key, headers: headers, body: data, payloadHash: digest)
            try expect(response, 200, key: key)
        }
        return StoredBlob(key: key, byteCount: data.count, sha256: digest)
    }

    public func get(_ key: BlobKey) async throws -> Data {
        let response = try await send("GET", key: key)
        if response.status == 404 { throw BlobError(.notFound, key: key, detail: "no such object") }
        try expect(response, 200, key: key)
        return response.body
    }

    public func head(_ key: BlobKey) async throws -> Int? {
        let response = try await send("HEAD", key: key)
        if response.status == 404 { return nil }
        try expect(response, 200, key: key)
        return response.headers.first(name: "content-length").flatMap(Int.init)
    }

    /// The object's ETag as the store reports it (`"<md5>"`, or `"<md5>-<parts>"` after a
    /// multipart upload); nil when absent.
    public func entityTag(_ key: BlobKey) async throws -> String? {
        let response = try await send("HEAD", key: key)
        if response.status == 404 { return nil }
        try expect(response, 200, key: key)
        return response.headers.first(name: "etag")
    }

    public func delete(_ key: BlobKey) async throws {
        let response = try await send("DELETE", key: key)
        if response.status == 404 { return }
        try expect(response, 204, 200, key: key)
    }

    /// A presigned GET for the object, when downloads are configured to go straight to the bucket.
    public func presignedURL(for key: BlobKey, expiresIn seconds: TimeInterval, now: Date) -> String? {
        guard configuration.presignDownloads else { return nil }
        return presignedGET(key, expiresIn: seconds, now: now)
    }

    /// A URL anyone can GET the object with until it expires (at most 7 days, S3's limit).
    public func presignedGET(_ key: BlobKey, expiresIn seconds: TimeInterval, now: Date) -> String {
        let target = self.target(for: key)
        let request = SigV4.Request(method: "GET", path: target.path, headers: [("host", target.host)],
                                    payloadHash: SigV4.unsignedPayload)
        let expires = min(max(1, Int(seconds.rounded(.up))), 7 * 24 * 3600)
        let signed = signer.presign(request, date: now, expires: expires)
        // The signed parameters in canonical order, the signature last (as AWS's SDKs write it).
        let query = SigV4.canonicalQuery(signed.additions.filter { $0.name != "X-Amz-Signature" })
        return "\(target.origin)\(SigV4.encode(target.path, keepingSlash: true))?\(query)&X-Amz-Signature=\(signed.signature)"
    }

    // MARK: Multipart

    private func putMultipart(_ data: Data, at key: BlobKey) async throws {
        var headers = [("Content-Type", "application/octet-stream")]
        if let encryption = configuration.serverSideEncryption { headers.append(("x-amz-server-side-encryption", encryption)) }
        let started = try await send("POST", key: key, query: [("uploads", "")], headers: headers)
        try expect(started, 200, key: key)
        guard let uploadID = Self.element("UploadId", in: started.body) else {
            throw BlobError(.io, key: key, detail: "the store started a multipart upload without an UploadId")
        }
        do {
            var parts: [(number: Int, etag: String)] = []
            var offset = 0
            while offset < data.count {
                let end = min(offset + configuration.partSize, data.count)
                let part = data.subdata(in: offset..<end)
                let number = parts.count + 1
                let response = try await send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                              body: part, payloadHash: SHA256Hex.digest(part))
                try expect(response, 200, key: key)
                guard let etag = response.headers.first(name: "etag") else {
                    throw BlobError(.io, key: key, detail: "part \(number) was stored without an ETag")
                }
                parts.append((number, etag))
                offset = end
            }
            let manifest = "<CompleteMultipartUpload>"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(Self.escapeXML($0.etag))</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            let body = Data(manifest.utf8)
            let completed = try await send("POST", key: key, query: [("uploadId", uploadID)],
                                           headers: [("Content-Type", "application/xml")], body: body,
                                           payloadHash: SHA256Hex.digest(body))
            try expect(completed, 200, key: key)
            // S3 may answer 200 and report the failure in the body.
            if Self.element("Code", in: completed.body) != nil {
                throw BlobError(.io, key: key, detail: "completing the upload failed: \(Self.describe(completed.body))")
            }
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    // MARK: Requests

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    /// Where an object lives: origin (scheme, host, port), host header and decoded path.
    private func target(for key: BlobKey) -> (origin: String, host: String, path: String) {
        let endpoint = configuration.endpoint
        let scheme = endpoint.scheme ?? "https"
        let defaultPort = scheme == "https" ? 443 : 80
        let port = endpoint.port.flatMap { $0 == defaultPort ? nil : $0 }
        let objectKey = configuration.prefix.isEmpty ? key.rawValue : "\(configuration.prefix)/\(key.rawValue)"
        var host = endpoint.host ?? "localhost"
        var path = "/\(objectKey)"
        switch configuration.addressing {
        case .virtualHosted: host = "\(configuration.bucket).\(host)"
        case .path: path = "/\(configuration.bucket)/\(objectKey)"
        }
        let authority = port.map { "\(host):\($0)" } ?? host
        return ("\(scheme)://\(authority)", authority, path)
    }

    private func send(_ method: String, key: BlobKey, query: [(String, String)] = [], headers: [(String, String)] = [],
                      body: Data? = nil, payloadHash: String = SigV4.emptyPayloadHash) async throws -> Answer {
        let target = self.target(for: key)
        var allHeaders = headers + [("Host", target.host)]
        if let body { allHeaders.append(("Content-Length", String(body.count))) }
        let request = SigV4.Request(method: method, path: target.path, query: query.map { ($0.0, $0.1) },
                                    headers: allHeaders.map { ($0.0, $0.1) }, payloadHash: payloadHash)
        let signed = signer.signHeaders(request, date: Date(), includeContentHash: true)
        let queryText = query.isEmpty ? "" : "?" + SigV4.canonicalQuery(query.map { ($0.0, $0.1) })
        var outgoing = HTTPClientRequest(url: "\(target.origin)\(SigV4.encode(target.path, keepingSlash: true))\(queryText)")
        outgoing.method = HTTPMethod(rawValue: method)
        for (name, value) in allHeaders where name.lowercased() != "content-length" { outgoing.headers.add(name: name, value: value) }
        for (name, value) in signed.additions { outgoing.headers.add(name: name, value: value) }
        if let body { outgoing.body = .bytes(ByteBuffer(data: body)) }
        let timeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeout.components.seconds) * 1_000_000_000)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: timeout, logger: logger)
        } catch {
            throw BlobError(.io, key: key, detail: "\(method) \(target.origin): \(error)")
        }
        let bytes = method == "HEAD" ? ByteBuffer() : try await response.body.collect(upTo: readLimit)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    private func expect(_ answer: Answer, _ statuses: Int..., key: BlobKey) throws {
        guard statuses.contains(answer.status) else {
            throw BlobError(.io, key: key, detail: "the object store answered \(answer.status): \(Self.describe(answer.body))")
        }
    }

    /// `Code: Message` from an S3 error document, or the start of the body.
    static func describe(_ body: Data) -> String {
        if let code = element("Code", in: body) {
            return "\(code): \(element("Message", in: body) ?? "")"
        }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }

    /// The text of the first `<name>` element in a small XML document.
    static func element(_ name: String, in body: Data) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let open = text.range(of: "<\(name)>"),
              let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
