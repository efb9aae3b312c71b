public import Hummingbird

/// Counts requests and records their latency by method, route pattern and status.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics

    public init(metrics: APIMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context, status: error.status.code, since: start)
            throw error
        } catch {
            record(request, context, status: 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        // The route pattern, never the raw path, keeps label cardinality bounded.
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: start.duration(to: .now))
    }
}
