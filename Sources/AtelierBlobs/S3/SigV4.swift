import AtelierCore
import Crypto
public import Foundation

/// The credentials a request is signed with.
public struct AWSCredentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Temporary credentials (STS) come with a session token.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4: the Authorization header form and the presigned-URL (query) form.
///
/// Written from the AWS specification and checked against the aws-c-auth test suite in
/// `testdata/sigv4`. A request is given *decoded*: a path and query items as the user means
/// them; the signer does the canonical encoding.
public struct SigV4: Sendable {
    /// A request as the signer sees it.
    public struct Request: Sendable {
        public var method: String
        /// The decoded path, starting with `/`.
        public var path: String
        /// Decoded query items, in any order.
        public var query: [(name: String, value: String)]
        /// Header names in any case; repeated names are joined in order.
        public var headers: [(name: String, value: String)]
        /// Lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(method: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The intermediate texts, exposed so tests can compare each step with the vectors.
    public struct Signed: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        /// Header form: the headers to add to the request (date, token, content hash, authorization).
        /// Query form: the query items to add to the URL.
        public var additions: [(name: String, value: String)]
    }

    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    /// Remove `.`/`..` segments and empty segments from the path before signing. Every AWS
    /// service does except S3, whose keys are taken literally.
    public var normalizesPath: Bool

    public init(credentials: AWSCredentials, region: String, service: String, normalizesPath: Bool) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizesPath = normalizesPath
    }

    // MARK: Signing

    /// Signs with an `Authorization` header. `includeContentHash` adds (and signs)
    /// `x-amz-content-sha256`, which S3 requires; `signSessionToken: false` adds the session
    /// token after signing, as some services expect.
    public func signHeaders(_ request: Request, date: Date, includeContentHash: Bool = false,
                            signSessionToken: Bool = true) -> Signed {
        let stamp = Self.timestamp(date)
        var request = request
        var additions: [(name: String, value: String)] = [("X-Amz-Date", stamp)]
        if includeContentHash { additions.append(("X-Amz-Content-Sha256", request.payloadHash)) }
        if let token = credentials.sessionToken, signSessionToken { additions.append(("X-Amz-Security-Token", token)) }
        request.headers += additions
        let headers = Self.canonicalHeaders(request.headers)
        let canonical = canonicalRequest(request, headers: headers, query: request.query)
        let (stringToSign, signature) = sign(canonical, stamp: stamp)
        if let token = credentials.sessionToken, !signSessionToken { additions.append(("X-Amz-Security-Token", token)) }
        additions.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(stamp)), "
                            + "SignedHeaders=\(headers.names), Signature=\(signature)"))
        return Signed(canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, additions: additions)
    }

    /// Signs in the query string, for a URL anyone may use until it expires (`expires` seconds,
    /// at most 7 days for S3).
    public func presign(_ request: Request, date: Date, expires: Int, signSessionToken: Bool = true) -> Signed {
        let stamp = Self.timestamp(date)
        let headers = Self.canonicalHeaders(request.headers)
        var additions: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(stamp))"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", String(expires)),
        ]
        if let token = credentials.sessionToken, signSessionToken { additions.append(("X-Amz-Security-Token", token)) }
        additions.append(("X-Amz-SignedHeaders", headers.names))
        let canonical = canonicalRequest(request, headers: headers, query: request.query + additions)
        let (stringToSign, signature) = sign(canonical, stamp: stamp)
        if let token = credentials.sessionToken, !signSessionToken { additions.append(("X-Amz-Security-Token", token)) }
        additions.append(("X-Amz-Signature", signature))
        return Signed(canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, additions: additions)
    }

    // MARK: The canonical request

    private func canonicalRequest(_ request: Request, headers: (text: String, names: String),
                                  query: [(name: String, value: String)]) -> String {
        [
            request.method,
            canonicalPath(request.path),
            Self.canonicalQuery(query),
            headers.text,
            headers.names,
            request.payloadHash,
        ].joined(separator: "\n")
    }

    func canonicalPath(_ path: String) -> String {
        guard normalizesPath else { return Self.encode(path, keepingSlash: true) }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        let trailingSlash = path.hasSuffix("/") && !segments.isEmpty
        let joined = "/" + segments.map { Self.encode(String($0), keepingSlash: false) }.joined(separator: "/")
        return trailingSlash ? joined + "/" : joined
    }

    static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = items.map { item in
            (encode(item.name, keepingSlash: false), encode(item.value, keepingSlash: false))
        }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { item in item.name + "=" + item.value }.joined(separator: "&")
    }

    /// Lower-case names sorted; values trimmed with inner runs of whitespace collapsed;
    /// repeated names joined with commas in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (text: String, names: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(whereSeparator: Self.isHeaderSpace).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed)
        }
        let names = merged.keys.sorted()
        let text = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (text, names.joined(separator: ";"))
    }

    private static func isHeaderSpace(_ character: Character) -> Bool {
        character == " " || character == "\t" || character == "\n" || character == "\r"
    }

    // MARK: Signature

    private func scope(_ stamp: String) -> String {
        "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    private func sign(_ canonicalRequest: String, stamp: String) -> (stringToSign: String, signature: String) {
        let stringToSign = [
            "AWS4-HMAC-SHA256", stamp, scope(stamp), Hex.encode(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [String(stamp.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)
        return (stringToSign, Hex.encode(signature))
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when kept),
    /// upper-case hex, as SigV4 requires.
    public static func encode(_ text: String, keepingSlash: Bool) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                output.append(byte)
            default:
                output += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
