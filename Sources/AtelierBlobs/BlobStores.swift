public import Foundation
public import Logging

/// Opens the blob store a server is configured with.
public enum BlobStores {
    /// Files under `<dataDirectory>/blobs`, or the S3 bucket described by the environment
    /// (`ATELIER_S3_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …).
    public static func open(_ location: StorageLocation, dataDirectory: URL,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            logger: Logger) throws -> any BlobStore {
        switch location {
        case .dataDirectory:
            return try FileBlobStore(root: dataDirectory.appendingPathComponent("blobs", isDirectory: true))
        case .s3(let bucket, let prefix):
            let configuration = try S3Configuration(bucket: bucket, prefix: prefix, environment: environment)
            return S3BlobStore(configuration: configuration, logger: logger)
        }
    }
}
