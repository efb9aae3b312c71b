public import AtelierCore
public import Foundation

/// Where and how to reach an S3-compatible bucket (AWS S3, MinIO, Ceph, moto, …).
public struct S3Configuration: Sendable {
    /// `https://bucket.s3.region.amazonaws.com/key` or `https://host/bucket/key`.
    public enum Addressing: String, Sendable {
        case virtualHosted = "virtual"
        case path
    }

    public var bucket: String
    /// Prepended to every object key (`prefix/creator/job/name`); may be empty.
    public var prefix: String
    /// Scheme, host and port of the service, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`.
    public var endpoint: URL
    public var region: String
    public var credentials: AWSCredentials
    public var addressing: Addressing
    /// `AES256` or `aws:kms` asks the store to encrypt objects at rest.
    public var serverSideEncryption: String?
    /// Objects larger than this are sent as a multipart upload, in parts of `partSize` bytes.
    public var multipartThreshold: Int
    public var partSize: Int
    /// Give creators presigned URLs pointing straight at the bucket instead of the server's own
    /// signed download URLs. Only when the store is reachable by them.
    public var presignDownloads: Bool
    /// How long one request may take before it is abandoned.
    public var requestTimeout: Duration

    public init(bucket: String, prefix: String = "", endpoint: URL, region: String, credentials: AWSCredentials,
                addressing: Addressing = .path, serverSideEncryption: String? = nil,
                multipartThreshold: Int = 16 * 1024 * 1024, partSize: Int = 8 * 1024 * 1024,
                presignDownloads: Bool = false, requestTimeout: Duration = .seconds(60)) {
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.addressing = addressing
        self.serverSideEncryption = serverSideEncryption
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.presignDownloads = presignDownloads
        self.requestTimeout = requestTimeout
    }

    /// From the conventional environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), and Atelier's
    /// `ATELIER_S3_ENDPOINT`, `ATELIER_S3_ADDRESSING` (`path` | `virtual`), `ATELIER_S3_SSE`,
    /// `ATELIER_S3_PRESIGN` (`1` to hand out presigned bucket URLs).
    public init(bucket: String, prefix: String, environment: [String: String]) throws(ValidationError) {
        guard let accessKey = environment["AWS_ACCESS_KEY_ID"], !accessKey.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw ValidationError(field: "storage", message: "an s3:// store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let custom = environment["ATELIER_S3_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        let endpointText = custom ?? "https://s3.\(region).amazonaws.com"
        guard let endpoint = URL(string: endpointText), let scheme = endpoint.scheme, ["http", "https"].contains(scheme),
              endpoint.host != nil, endpoint.path.isEmpty || endpoint.path == "/" else {
            throw ValidationError(field: "ATELIER_S3_ENDPOINT", message: "must be http(s)://host[:port], not \(endpointText)")
        }
        let addressing: Addressing
        if let text = environment["ATELIER_S3_ADDRESSING"], !text.isEmpty {
            guard let parsed = Addressing(rawValue: text) else {
                throw ValidationError(field: "ATELIER_S3_ADDRESSING", message: "must be path or virtual, not \(text)")
            }
            addressing = parsed
        } else {
            // AWS prefers virtual-hosted names; self-hosted stores on an IP or localhost need paths.
            addressing = custom == nil ? .virtualHosted : .path
        }
        let encryption = environment["ATELIER_S3_SSE"].flatMap { $0.isEmpty ? nil : $0 }
        if let encryption, !["AES256", "aws:kms"].contains(encryption) {
            throw ValidationError(field: "ATELIER_S3_SSE", message: "must be AES256 or aws:kms, not \(encryption)")
        }
        self.init(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region,
                  credentials: AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret,
                                              sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }),
                  addressing: addressing, serverSideEncryption: encryption,
                  presignDownloads: ["1", "true", "yes"].contains(environment["ATELIER_S3_PRESIGN"]?.lowercased() ?? ""))
    }
}
