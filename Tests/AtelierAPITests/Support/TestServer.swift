import AsyncHTTPClient
import AtelierAPI
import AtelierClient
import AtelierWire
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ServiceLifecycle
import Testing

/// A real server on an ephemeral loopback port with a fresh data directory, for one test.
final class TestServer: Sendable {
    let server: AtelierServer
    let url: String
    let dataDirectory: URL
    private let task: Task<Void, any Error>
    private let lifecycle: RecordedLog

    static let adminKey = "atl_admin_test0000000000000000000000000000"

    private init(server: AtelierServer, url: String, dataDirectory: URL, task: Task<Void, any Error>, lifecycle: RecordedLog) {
        self.server = server
        self.url = url
        self.dataDirectory = dataDirectory
        self.task = task
        self.lifecycle = lifecycle
    }

    /// Starts a server; `workers: 0` leaves all work to remote workers (or none).
    static func start(workers: Int = 0, leaseDuration: TimeInterval = 30,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-api-\(UUID().uuidString)")
        var configuration = ServerConfiguration(dataDirectory: directory, port: 0, workers: workers, adminKey: adminKey,
                                                shutdownGrace: .seconds(1), leaseDuration: leaseDuration)
        configure(&configuration)
        var logger = Logger(label: "test-server")
        logger.logLevel = ProcessInfo.processInfo.environment["ATELIER_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let server = try await AtelierServer.open(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let services = server.makeServices { port in continuation.yield(port) }
        // The service group's own log (which services it is waiting for) is kept, to explain a
        // server that does not stop.
        let lifecycle = RecordedLog()
        var groupLogger = Logger(label: "service-group") { _ in lifecycle }
        groupLogger.logLevel = .debug
        let task = Task {
            // As `AtelierServer.run`, minus the signal handlers: tests cancel instead.
            let traced = services.map { TracedService(base: $0, log: groupLogger) }
            let group = ServiceGroup(configuration: .init(services: traced.map { .init(service: $0) }, logger: groupLogger))
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ClientError.transport("server did not start") }
        return TestServer(server: server, url: "http://127.0.0.1:\(port)", dataDirectory: directory, task: task, lifecycle: lifecycle)
    }

    /// Cancels the server and waits for it to finish; a server that does not stop within 30 s
    /// fails the test instead of hanging the run.
    func stop() async {
        task.cancel()
        let task = self.task
        do {
            try await within(.seconds(30), "the server at \(url) to stop") { _ = try? await task.value }
        } catch {
            Issue.record("\(error); the service group said:\n\(lifecycle.lines.suffix(40).joined(separator: "\n"))")
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// A client of the API holding `key` (none when nil); every answer is checked against the contract.
    func client(_ key: String?) -> API {
        API(url: url, key: key)
    }

    var admin: API { client(Self.adminKey) }

    /// Creates a creator with `credits` to spend and returns a client holding its key.
    func creator(_ name: String = "creator-\(UUID().uuidString.prefix(8))", weight: Int = 1,
                 credits: Int = 1_000_000) async throws -> (API, CreatorResource) {
        let response = try await admin.send(.POST, "/v1/admin/creators", json: CreateCreatorBody(name: name, weight: weight, credits: credits))
        #expect(response.status == 201)
        let creator = try response.decode(CreatorResource.self)
        return (client(creator.apiKey), creator)
    }

    func worker(_ name: String = "worker-\(UUID().uuidString.prefix(8))") async throws -> (API, WorkerResource) {
        let response = try await admin.send(.POST, "/v1/admin/workers", json: CreateWorkerBody(name: name))
        #expect(response.status == 201)
        let worker = try response.decode(WorkerResource.self)
        return (client(worker.apiKey), worker)
    }
}

/// One HTTP answer.
struct APIResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try WireCoding.decoder().decode(T.self, from: body)
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The problem document, if the answer is one (with the right media type).
    var problem: Problem? {
        guard headers.first(name: "Content-Type") == "application/problem+json" else { return nil }
        return try? JSONDecoder().decode(Problem.self, from: body)
    }
}

/// Raw HTTP to the test server with one key (or none).
struct API: Sendable {
    let url: String
    let key: String?

    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = "application/json",
              headers: [(String, String)] = [], authorized: Bool = true) async throws -> APIResponse {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : url + path)
        request.method = method
        if authorized, let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response = try await HTTPClient.interactive.execute(request, timeout: .seconds(60))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 28))
        let result = APIResponse(status: Int(response.status.code), headers: response.headers, body: data)
        try Contract.shared.check(method: method.rawValue.lowercased(), url: request.url, response: result)
        return result
    }

    func send(_ method: HTTPMethod, _ path: String, json: some Encodable, headers: [(String, String)] = []) async throws -> APIResponse {
        try await send(method, path, body: try WireCoding.encoder().encode(json), headers: headers)
    }

    func job(_ id: String) async throws -> JobResource {
        let response = try await send(.GET, "/v1/jobs/\(id)")
        #expect(response.status == 200)
        return try response.decode(JobResource.self)
    }

    func submit(_ body: CreateJobBody, idempotencyKey: String? = nil) async throws -> JobResource {
        let response = try await send(.POST, "/v1/jobs", json: body, headers: idempotencyKey.map { [("Idempotency-Key", $0)] } ?? [])
        #expect(response.status == 202, "\(response.text)")
        return try response.decode(JobResource.self)
    }

    /// Polls the job until `condition` holds or `timeout` passes.
    func waitForJob(_ id: String, timeout: Duration = .seconds(90), until condition: (JobResource) -> Bool) async throws -> JobResource {
        let deadline = ContinuousClock.now + timeout
        while true {
            let job = try await self.job(id)
            if condition(job) { return job }
            if ContinuousClock.now > deadline {
                Issue.record("job \(id) did not reach the expected state; last: \(job.status) \(job.progress)")
                return job
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A small image job that renders quickly.
func smallImage(_ prompt: String = "a red fox in fresh snow", seed: UInt32 = 7) -> CreateJobBody {
    CreateJobBody(kind: .image, prompt: prompt, params: ParamsBody(width: 128, height: 96, seed: seed))
}

/// Runs the test body against a fresh server and always stops it.
func withServer(workers: Int = 0, leaseDuration: TimeInterval = 30,
                configure: (inout ServerConfiguration) -> Void = { _ in },
                _ body: (TestServer) async throws -> Void) async throws {
    let server = try await TestServer.start(workers: workers, leaseDuration: leaseDuration, configure: configure)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
