/// How fast each API key may call each class of route, and how fast one client address may
/// fail to authenticate. Token buckets: `burst` requests at once, refilled at `perSecond`.
///
/// Written as a spec (`--rate-limits`, `ATELIER_RATE_LIMITS`):
/// `read=100/200,submit=50/100,write=20/40,worker=500/1000,auth-failures=1/10`, where each
/// `rate/burst` may be `off`; the whole spec may be `off`. Classes not named keep their default.
public struct RateLimits: Sendable, Hashable {
    /// A class of routes sharing one bucket per key.
    public enum RouteClass: String, Sendable, Hashable, CaseIterable {
        /// GET and HEAD.
        case read
        /// `POST /v1/jobs`.
        case submit
        /// Every other POST, PUT and DELETE.
        case write
        /// `/v1/worker/*`: worker machines leasing, heartbeating and completing.
        case worker

        /// The class of a request, by method and path.
        public static func of(method: String, path: String) -> RouteClass {
            if path.hasPrefix("/v1/worker/") { return .worker }
            if method == "GET" || method == "HEAD" { return .read }
            if method == "POST" && (path == "/v1/jobs" || path == "/v1/jobs/") { return .submit }
            return .write
        }
    }

    public struct Bucket: Sendable, Hashable {
        public var perSecond: Double
        public var burst: Int

        public init(perSecond: Double, burst: Int) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// Per key and class; a missing class is not limited.
    public var perKey: [RouteClass: Bucket]
    /// Failed authentications per client address; nil: not limited.
    public var authFailures: Bucket?

    public init(perKey: [RouteClass: Bucket], authFailures: Bucket?) {
        self.perKey = perKey
        self.authFailures = authFailures
    }

    /// Generous for people and scripts, tight for key guessing.
    public static let defaults = RateLimits(
        perKey: [
            .read: Bucket(perSecond: 100, burst: 200),
            .submit: Bucket(perSecond: 50, burst: 100),
            .write: Bucket(perSecond: 20, burst: 40),
            .worker: Bucket(perSecond: 500, burst: 1_000),
        ],
        authFailures: Bucket(perSecond: 1, burst: 10))

    /// Nothing limited (load tests and benchmarks, or a proxy in front that limits).
    public static let off = RateLimits(perKey: [:], authFailures: nil)

    public var isOff: Bool { perKey.isEmpty && authFailures == nil }

    /// Parses a spec over `defaults`; the error says what is wrong with which part.
    public init(spec: String, over base: RateLimits = .defaults) throws(RateLimitSpecError) {
        self = base
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if trimmed == "off" {
            self = .off
            return
        }
        for part in trimmed.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2 else { throw RateLimitSpecError(part: String(part), reason: "expected name=rate/burst") }
            let bucket = try Self.bucket(pieces[1], part: String(part))
            if pieces[0] == "auth-failures" {
                authFailures = bucket
            } else if let routeClass = RouteClass(rawValue: pieces[0]) {
                perKey[routeClass] = bucket
            } else {
                throw RateLimitSpecError(part: String(part), reason: "the name must be one of read, submit, write, worker, auth-failures")
            }
        }
    }

    private static func bucket(_ text: String, part: String) throws(RateLimitSpecError) -> Bucket? {
        if text == "off" { return nil }
        let numbers = text.split(separator: "/", maxSplits: 1)
        guard numbers.count == 2, let rate = Double(numbers[0]), rate > 0, rate.isFinite,
              let burst = Int(numbers[1]), burst >= 1 else {
            throw RateLimitSpecError(part: part, reason: "expected rate/burst with a positive rate per second and a burst of at least 1, or off")
        }
        return Bucket(perSecond: rate, burst: burst)
    }
}

public struct RateLimitSpecError: Error, Sendable, CustomStringConvertible {
    public var part: String
    public var reason: String
    public var description: String { "rate limits: \"\(part)\": \(reason)" }
}
