public import Hummingbird

/// Registers routes on the router and remembers them, so a test can prove that the server's
/// routes and the OpenAPI document agree. Paths are written as in OpenAPI: `/v1/jobs/{id}`.
public final class RouteTable<Context: RequestContext> {
    public struct Route: Hashable, Sendable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var description: String { "\(method) \(path)" }
    }

    let router: Router<Context>
    public private(set) var routes: [Route] = []

    init(router: Router<Context>) {
        self.router = router
    }

    func add(_ method: HTTPRequest.Method, _ path: String,
             use handler: @Sendable @escaping (Request, Context) async throws -> Response) {
        add(method, path, matching: path, use: handler)
    }

    /// A route the router matches by a pattern OpenAPI cannot write (e.g. a `**` catch-all),
    /// listed under its documented path.
    func add(_ method: HTTPRequest.Method, _ path: String, matching pattern: String,
             use handler: @Sendable @escaping (Request, Context) async throws -> Response) {
        routes.append(Route(method: method.rawValue.lowercased(), path: path))
        router.on(RouterPath(pattern), method: method, use: handler)
    }
}
