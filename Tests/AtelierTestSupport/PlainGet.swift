import AsyncHTTPClient
public import Foundation
import NIOFoundationCompat

/// What a plain GET answered.
public struct PlainResponse: Sendable {
    public let status: UInt
    public let body: Data
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// GETs `url` with no credentials, as a creator's browser opens a link it was handed (a
/// presigned URL straight at the bucket, say). Bodies up to 64 MiB.
public func plainGet(_ url: String) async throws -> PlainResponse {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
    let body = try await response.body.collect(upTo: 1 << 26)
    return PlainResponse(status: response.status.code, body: Data(buffer: body))
}
