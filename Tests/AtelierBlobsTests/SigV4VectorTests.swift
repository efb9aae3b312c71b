import AtelierBlobs
import Crypto
import Foundation
import Testing

/// Every case of the aws-c-auth SigV4 suite in `../shared/testdata/sigv4`, signed both ways
/// (Authorization header and presigned query), compared step by step with the expected texts.
@Suite struct SigV4VectorTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/testdata/sigv4")

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/context.json").path) }.sorted()
    }()

    @Test func theSuiteIsThere() {
        #expect(Self.cases.count >= 38, "expected the aws-c-auth suite at \(Self.root.path)")
    }

    @Test(arguments: cases)
    func headerSigning(_ name: String) throws {
        let vector = try Vector(name)
        let signed = vector.signer.signHeaders(vector.request, date: vector.date, includeContentHash: vector.signBody,
                                               signSessionToken: !vector.omitSessionToken)
        #expect(signed.canonicalRequest == vector.expected("header-canonical-request.txt"))
        #expect(signed.stringToSign == vector.expected("header-string-to-sign.txt"))
        #expect(signed.signature == vector.expected("header-signature.txt"))
        let authorization = signed.additions.first { $0.name == "Authorization" }?.value
        #expect(vector.expected("header-signed-request.txt").contains("Authorization:\(authorization ?? "-")\n"))
    }

    @Test(arguments: cases)
    func querySigning(_ name: String) throws {
        let vector = try Vector(name)
        let signed = vector.signer.presign(vector.request, date: vector.date, expires: vector.expires,
                                           signSessionToken: !vector.omitSessionToken)
        #expect(signed.canonicalRequest == vector.expected("query-canonical-request.txt"))
        #expect(signed.stringToSign == vector.expected("query-string-to-sign.txt"))
        #expect(signed.signature == vector.expected("query-signature.txt"))
        // The signed request's query holds exactly the items we add (any order).
        let line = vector.expected("query-signed-request.txt").split(separator: "\n").first.map(String.init) ?? ""
        let target = line.dropFirst(vector.request.method.count + 1).dropLast(" HTTP/1.1".count)
        let sent = Set(target.split(separator: "?", maxSplits: 1).last!.split(separator: "&").map(String.init))
        for (name, value) in signed.additions {
            #expect(sent.contains("\(name)=\(SigV4.encode(value, keepingSlash: false))"), "\(name) missing from \(line)")
        }
    }

    @Test func changingAnythingChangesTheSignature() throws {
        let vector = try Vector("get-vanilla-query")
        let base = vector.signer.signHeaders(vector.request, date: vector.date).signature
        var other = vector.request
        other.path = "/other"
        #expect(vector.signer.signHeaders(other, date: vector.date).signature != base)
        #expect(vector.signer.signHeaders(vector.request, date: vector.date.addingTimeInterval(1)).signature != base)
        var wrongKey = vector.signer
        wrongKey.credentials.secretAccessKey += "x"
        #expect(wrongKey.signHeaders(vector.request, date: vector.date).signature != base)
    }
}

/// One case folder, parsed.
struct Vector {
    let folder: URL
    let request: SigV4.Request
    let signer: SigV4
    let date: Date
    let expires: Int
    let signBody: Bool
    let omitSessionToken: Bool

    struct Context: Decodable {
        struct Credentials: Decodable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: Credentials
        var expiration_in_seconds: Int
        var normalize: Bool
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
        var omit_session_token: Bool?
    }

    init(_ name: String) throws {
        folder = SigV4VectorTests.root.appendingPathComponent(name)
        let context = try JSONDecoder().decode(Context.self, from: Data(contentsOf: folder.appendingPathComponent("context.json")))
        signer = SigV4(credentials: AWSCredentials(accessKeyID: context.credentials.access_key_id,
                                                   secretAccessKey: context.credentials.secret_access_key,
                                                   sessionToken: context.credentials.token),
                       region: context.region, service: context.service, normalizesPath: context.normalize)
        date = try #require(ISO8601DateFormatter().date(from: context.timestamp))
        expires = context.expiration_in_seconds
        signBody = context.sign_body
        omitSessionToken = context.omit_session_token ?? false
        request = try Self.parse(String(decoding: Data(contentsOf: folder.appendingPathComponent("request.txt")), as: UTF8.self))
    }

    func expected(_ file: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? "<missing \(file)>"
    }

    /// A raw HTTP/1.1 request: request line, headers (continuation lines folded), body.
    static func parse(_ text: String) throws -> SigV4.Request {
        let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count)
        let pathPart = target.prefix { $0 != "?" }
        let queryPart = target.dropFirst(pathPart.count + 1)
        let query: [(name: String, value: String)] = queryPart.split(separator: "&").map { item in
            let name = item.prefix { $0 != "=" }
            let value = item.dropFirst(name.count + 1)
            return (String(name).removingPercentEncoding ?? String(name), String(value).removingPercentEncoding ?? String(value))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", let last = headers.popLast() {
                headers.append((last.name, last.value + " " + line))
            } else {
                let name = line.prefix { $0 != ":" }
                headers.append((String(name), String(line.dropFirst(name.count + 1))))
            }
        }
        let hash = body.isEmpty ? SigV4.emptyPayloadHash : SHA256Hex.digest(Data(body.utf8))
        return SigV4.Request(method: method, path: String(pathPart), query: query, headers: headers, payloadHash: hash)
    }
}
