import AtelierWire
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Reading JSON request bodies and writing JSON responses the way the whole API does.
public struct JSONIO: Sendable {
    /// Largest JSON body any endpoint accepts.
    public var bodyLimit: Int

    public init(bodyLimit: Int = 64 * 1024) {
        self.bodyLimit = bodyLimit
    }

    /// Decodes the body; malformed JSON is a 400, a field of the wrong type or missing a 422.
    func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw APIProblem(.unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type",
                             detail: "send the body as JSON with 'Content-Type: application/json'")
        }
        let buffer = try await request.body.collect(upTo: bodyLimit)
        guard buffer.readableBytes > 0 else {
            throw APIProblem(.badRequest, slug: "malformed-json", title: "The body is not valid JSON",
                             detail: "the request body is empty; send a JSON object")
        }
        let data = Data(buffer: buffer)
        do {
            return try WireCoding.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
               let field = NumberLocator.unrepresentableNumber(decoding: T.self, from: data) {
                throw APIProblem.validation([FieldError(field: field, message: "must be a whole number in the allowed range")])
            }
            throw Self.problem(for: error)
        }
    }

    static func problem(for error: DecodingError) -> APIProblem {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            let joined = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            // "$" is the body itself, e.g. an array where an object belongs.
            return joined.isEmpty ? "$" : joined.replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return APIProblem(.badRequest, slug: "malformed-json", title: "The body is not valid JSON",
                              detail: "the request body could not be parsed as JSON")
        case .dataCorrupted(let context):
            return .validation([FieldError(field: path(context.codingPath), message: "has an invalid value (\(context.debugDescription))")])
        case .keyNotFound(let key, let context):
            return .validation([FieldError(field: path(context.codingPath, key), message: "is required")])
        case .typeMismatch(let type, let context):
            return .validation([FieldError(field: path(context.codingPath), message: "must be \(Self.describe(type))")])
        case .valueNotFound(let type, let context):
            return .validation([FieldError(field: path(context.codingPath), message: "must be \(Self.describe(type)), not null")])
        @unknown default:
            return APIProblem(.badRequest, slug: "malformed-json", title: "The body is not valid JSON", detail: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt32.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }

    /// A JSON response.
    func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: try encode(value)))
    }

    /// A JSON body, encoded once to be sent now or later (see `JobDocumentCache`).
    func encode(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try WireCoding.encoder().encode(value))
    }

    /// A 200 response with a body `encode` produced.
    func response(encoded body: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
}
