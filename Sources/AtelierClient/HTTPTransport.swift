public import AsyncHTTPClient
public import AtelierWire
public import Foundation
public import NIOCore
import NIOFoundationCompat
public import NIOHTTP1

/// Why a call to the server failed.
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// The server answered with a problem document.
    case problem(Problem)
    /// The server could not be reached or answered with something that is not the API.
    case transport(String)

    public var description: String {
        switch self {
        case .problem(let problem): "\(problem.title): \(problem.detail) (HTTP \(problem.status))"
        case .transport(let message): message
        }
    }

    /// The problem's type slug, e.g. `lease-lost`, when the server sent one.
    public var problemSlug: String? {
        if case .problem(let problem) = self { return problem.slug }
        return nil
    }
}

extension HTTPClient {
    /// For one-shot commands and tests: a server that is down is reported at once instead of
    /// being retried until the connect timeout, as `shared` does for long-running workers.
    public static let interactive: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}

/// JSON over HTTP to one Atelier server with one key.
public struct HTTPTransport: Sendable {
    public let baseURL: String
    let apiKey: String?
    let client: HTTPClient
    /// Largest response body read into memory (artifacts included).
    public var responseLimit = 1 << 30

    public init(baseURL: String, apiKey: String?, client: HTTPClient = .shared) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.client = client
    }

    func request(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
                 headers extra: [(String, String)] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : baseURL + path)
        request.method = method
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        return request
    }

    /// Sends a request and returns the raw response body, or throws the server's problem.
    public func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
                     headers: [(String, String)] = [], timeout: TimeAmount = .seconds(60)) async throws -> (status: Int, body: Data) {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request(method, path, body: body, contentType: contentType, headers: headers),
                                                timeout: timeout)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ClientError.transport("cannot reach \(baseURL): \(error)")
        }
        let buffer = try await response.body.collect(upTo: responseLimit)
        let data = Data(buffer: buffer)
        guard (200..<300).contains(Int(response.status.code)) else {
            if let problem = try? JSONDecoder().decode(Problem.self, from: data) { throw ClientError.problem(problem) }
            throw ClientError.transport("\(baseURL) answered HTTP \(response.status.code) without a problem document")
        }
        return (Int(response.status.code), data)
    }

    /// Sends JSON and decodes the JSON answer.
    public func call<Response: Decodable>(_ method: HTTPMethod, _ path: String, json: (some Encodable)? = Optional<Data>.none,
                                          headers: [(String, String)] = [], timeout: TimeAmount = .seconds(60),
                                          as type: Response.Type = Response.self) async throws -> Response {
        let body = try json.map { try WireCoding.encoder().encode($0) }
        let (_, data) = try await send(method, path, body: body, headers: headers, timeout: timeout)
        do {
            return try WireCoding.decoder().decode(Response.self, from: data)
        } catch {
            throw ClientError.transport("unexpected answer from \(baseURL)\(path): \(error)")
        }
    }

    /// Server-sent events from `path`, one (event, data) pair at a time, until the server ends the stream.
    public func events(_ path: String) -> AsyncThrowingStream<(event: String, data: String), any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var request = request(.GET, path)
                    request.headers.add(name: "Accept", value: "text/event-stream")
                    let response = try await client.execute(request, timeout: .hours(24))
                    guard response.status == .ok else {
                        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
                        if let problem = try? JSONDecoder().decode(Problem.self, from: data) { throw ClientError.problem(problem) }
                        throw ClientError.transport("\(baseURL) answered HTTP \(response.status.code)")
                    }
                    var parser = EventStreamParser()
                    for try await buffer in response.body {
                        for event in parser.feed(String(buffer: buffer)) { continuation.yield(event) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Splits a `text/event-stream` into events (the subset the API sends: `event:` and `data:` lines).
public struct EventStreamParser: Sendable {
    private var pending = ""

    public init() {}

    public mutating func feed(_ text: String) -> [(event: String, data: String)] {
        pending += text
        var events: [(event: String, data: String)] = []
        while let range = pending.range(of: "\n\n") {
            let block = pending[..<range.lowerBound]
            pending.removeSubrange(..<range.upperBound)
            var name = "message"
            var data: [Substring] = []
            for line in block.split(separator: "\n") {
                if line.hasPrefix(":") { continue }
                if line.hasPrefix("event:") { name = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("data:") { data.append(line.dropFirst(5).drop { $0 == " " }) }
            }
            if !data.isEmpty { events.append((name, data.joined(separator: "\n"))) }
        }
        return events
    }
}
