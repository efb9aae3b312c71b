import HTTPTypes
import Hummingbird

/// Rate limits (see `RateLimits`): a token bucket per API key and route class, and one per
/// client address for failed authentications. A refused request is a 429 problem with
/// `Retry-After`; every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
/// `RateLimit-Reset` (draft-ietf-httpapi-ratelimit-headers).
///
/// The key's bucket is named by the key's SHA-256 (the key itself is never kept). A request
/// whose key turns out unknown (401) gives its bucket back and costs its address a token of
/// the failure bucket; an address with none left is refused before its key is even looked at,
/// so keys cannot be guessed at speed. Behind a reverse proxy every client has the proxy's
/// address: limit failures at the proxy then, or turn `auth-failures` off.
struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let limits: RateLimits
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let failureBucket = "address:\(address)"
        let routeClass = RateLimits.RouteClass.of(method: request.method.rawValue, path: request.uri.path)
        let keyBucket = Self.bearerToken(request).map { "key:\(routeClass.rawValue):" + APIKey.hash($0) }
        if let rule = limits.authFailures {
            // An address out of failures may still use keys that worked before (they have a
            // bucket; an unknown key's bucket is forgotten): one broken script behind a shared
            // address does not lock out everyone else there.
            let standing = limiter.peek(failureBucket, rule)
            if !standing.allowed && !(keyBucket.map(limiter.contains) ?? false) {
                throw Self.refusal(standing, detail: "too many failed authentications from \(address); wait \(standing.retryAfterSeconds) s and check the key")
            }
        }
        var decision: RateLimiter.Decision?
        if let name = keyBucket, let rule = limits.perKey[routeClass] {
            let taken = limiter.take(name, rule)
            guard taken.allowed else {
                throw Self.refusal(taken, detail: "this key may make \(rule.burst) \(routeClass.rawValue) requests at once and "
                    + "\(Self.figure(rule.perSecond)) per second; wait \(taken.retryAfterSeconds) s")
            }
            decision = taken
        }
        do {
            var response = try await next(request, context)
            if let decision { Self.annotate(&response.headers, decision) }
            return response
        } catch let error as any HTTPResponseError where error.status == .unauthorized {
            if let keyBucket { limiter.forget(keyBucket) }
            if let rule = limits.authFailures { _ = limiter.take(failureBucket, rule) }
            throw error
        }
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.count > 7,
              value.prefix(7).lowercased() == "bearer " else { return nil }
        return String(value.dropFirst(7))
    }

    static func annotate(_ headers: inout HTTPFields, _ decision: RateLimiter.Decision) {
        headers[HTTPField.Name("RateLimit-Limit")!] = String(decision.limit)
        headers[HTTPField.Name("RateLimit-Remaining")!] = String(decision.remaining)
        headers[HTTPField.Name("RateLimit-Reset")!] = String(decision.resetSeconds)
    }

    static func refusal(_ decision: RateLimiter.Decision, detail: String) -> APIProblem {
        var headers: HTTPFields = [.retryAfter: String(decision.retryAfterSeconds)]
        annotate(&headers, decision)
        return APIProblem(.tooManyRequests, slug: "rate-limited", title: "Too many requests", detail: detail, headers: headers)
    }

    private static func figure(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
