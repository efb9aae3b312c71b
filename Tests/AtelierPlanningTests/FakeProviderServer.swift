import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A protocol-faithful stand-in for the hosted services planners talk to, on a loopback port:
/// OpenAI's chat completions (`POST /v1/chat/completions`), Anthropic's Messages
/// (`POST /v1/messages`) and OpenAI's moderations (`POST /v1/moderations`), answering with
/// the documented shapes. Each test sets how it behaves and reads what it was sent.
final class FakeProviderServer: Sendable {
    enum Behaviour: Sendable {
        /// Answer with this text as the model's message.
        case answer(String)
        /// Wait this long, then answer.
        case slow(Duration, String)
        /// An HTTP error in the provider's error shape.
        case error(status: Int, type: String, message: String)
    }

    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: [String: Any] { (try? JSONSerialization.jsonObject(with: bodyData)) as? [String: Any] ?? [:] }
        let bodyData: Data
    }

    let url: String
    private let task: Task<Void, any Error>
    private let shared: SharedState

    var received: [Received] { shared.state.withLock { $0.received } }

    func set(_ behaviour: Behaviour) { shared.state.withLock { $0.behaviour = behaviour } }
    /// The moderation endpoint flags this category (nil: nothing is flagged).
    func flag(_ category: String?) { shared.state.withLock { $0.flagged = category } }

    private init(url: String, task: Task<Void, any Error>, shared: SharedState) {
        self.url = url
        self.task = task
        self.shared = shared
    }

    static func start(_ behaviour: Behaviour) async throws -> FakeProviderServer {
        let shared = SharedState(behaviour)
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in try await shared.answer(request, format: .chatCompletion) }
        router.post("/v1/messages") { request, _ in try await shared.answer(request, format: .messages) }
        router.post("/v1/moderations") { request, _ in try await shared.moderate(request) }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "fake-provider") { _ in SwiftLogNoOpLogHandler() }
        )
        let task = Task { try await application.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return FakeProviderServer(url: "http://127.0.0.1:\(port)", task: task, shared: shared)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// What the route handlers and the test share.
    private final class SharedState: Sendable {
        let state: Mutex<(behaviour: Behaviour, received: [Received], flagged: String?)>

        init(_ behaviour: Behaviour) {
            state = Mutex((behaviour, [], nil))
        }

        enum Format { case chatCompletion, messages }

        func record(_ request: Request) async throws -> Data {
            let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            state.withLock { $0.received.append(Received(path: request.uri.path, headers: headers, bodyData: body)) }
            return body
        }

        func answer(_ request: Request, format: Format) async throws -> Response {
            _ = try await record(request)
            let behaviour = state.withLock { $0.behaviour }
            let text: String
            switch behaviour {
            case .answer(let answer):
                text = answer
            case .slow(let delay, let answer):
                try await Task.sleep(for: delay)
                text = answer
            case .error(let status, let type, let message):
                let body: [String: Any] = format == .messages
                    ? ["type": "error", "error": ["type": type, "message": message]]
                    : ["error": ["message": message, "type": type, "param": NSNull(), "code": NSNull()]]
                return json(body, status: HTTPResponse.Status(code: status))
            }
            switch format {
            case .chatCompletion:
                return json([
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_763_900_000, "model": "fake-model",
                    "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
                    "usage": ["prompt_tokens": 100, "completion_tokens": 200, "total_tokens": 300],
                ])
            case .messages:
                return json([
                    "id": "msg_fake", "type": "message", "role": "assistant", "model": "fake-model",
                    "content": [["type": "text", "text": text]], "stop_reason": "end_turn", "stop_sequence": NSNull(),
                    "usage": ["input_tokens": 100, "output_tokens": 200],
                ])
            }
        }

        func moderate(_ request: Request) async throws -> Response {
            _ = try await record(request)
            let flagged = state.withLock { $0.flagged }
            var categories: [String: Bool] = ["violence": false, "sexual/minors": false, "self-harm": false, "harassment": false]
            if let flagged { categories[flagged] = true }
            return json([
                "id": "modr-fake", "model": "omni-moderation-latest",
                "results": [["flagged": flagged != nil, "categories": categories,
                             "category_scores": categories.mapValues { $0 ? 0.98 : 0.01 }]],
            ])
        }

        func json(_ value: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
            let data = (try? JSONSerialization.data(withJSONObject: value)) ?? Data()
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
