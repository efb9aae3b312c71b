@testable import AtelierAPI
import AtelierWire
import Foundation
import Synchronization
import Testing

/// Token buckets per key and route class, failed authentications per address, and the
/// headers that tell a client where it stands.
@Suite struct RateLimitTests {
    @Test("a spec sets the classes it names and keeps the defaults of the others; bad specs say which part is wrong")
    func specs() throws {
        let limits = try RateLimits(spec: "submit=5/10, auth-failures=off, worker=off")
        #expect(limits.perKey[.submit] == RateLimits.Bucket(perSecond: 5, burst: 10))
        #expect(limits.perKey[.read] == RateLimits.defaults.perKey[.read])
        #expect(limits.perKey[.worker] == nil)
        #expect(limits.authFailures == nil)
        #expect(try RateLimits(spec: "off").isOff)
        #expect(!RateLimits.defaults.isOff)
        for (spec, part) in [("submit=5", "submit=5"), ("reads=1/2", "reads=1/2"), ("read=0/2", "read=0/2"),
                             ("read=1/0", "read=1/0"), ("read", "read")] {
            #expect {
                _ = try RateLimits(spec: spec)
            } throws: { ($0 as? RateLimitSpecError)?.part == part }
        }
        #expect(RateLimits.RouteClass.of(method: "POST", path: "/v1/jobs") == .submit)
        #expect(RateLimits.RouteClass.of(method: "POST", path: "/v1/jobs/j1/cancel") == .write)
        #expect(RateLimits.RouteClass.of(method: "GET", path: "/v1/jobs") == .read)
        #expect(RateLimits.RouteClass.of(method: "POST", path: "/v1/worker/lease") == .worker)
    }

    @Test("a bucket gives its burst at once, then refills at its rate; the figures behind the headers follow it")
    func buckets() {
        let time = Mutex(0.0)
        let limiter = RateLimiter(capacity: 4) { time.withLock { $0 } }
        let rule = RateLimits.Bucket(perSecond: 2, burst: 3)
        let taken = (0..<4).map { _ in limiter.take("k", rule) }
        #expect(taken.map(\.allowed) == [true, true, true, false])
        #expect(taken.map(\.remaining) == [2, 1, 0, 0])
        #expect(taken[3].retryAfterSeconds == 1 && taken[3].resetSeconds == 2)
        time.withLock { $0 = 0.5 }  // one token back
        #expect(limiter.take("k", rule).allowed)
        #expect(!limiter.take("k", rule).allowed)
        time.withLock { $0 = 10 }  // never more than the burst
        #expect(limiter.peek("k", rule).remaining == 3)
        #expect(limiter.contains("k"))
        limiter.forget("k")
        #expect(!limiter.contains("k"))

        // Bounded: full buckets are dropped first when room is needed; busy ones are kept.
        for name in ["a", "b", "c", "d"] { _ = limiter.take(name, rule) }
        _ = limiter.take("d", rule)
        _ = limiter.take("d", rule)
        time.withLock { $0 = 10.6 }  // a, b, c are full again; d is not
        _ = limiter.take("e", rule)
        #expect(limiter.contains("d") && limiter.contains("e"))
        #expect(!limiter.contains("a") && !limiter.contains("b") && !limiter.contains("c"))
    }

    @Test("a key past its burst gets a 429 problem with Retry-After and RateLimit headers; other keys and classes are untouched")
    func perKey() async throws {
        try await withServer(configure: { $0.rateLimits = try! RateLimits(spec: "read=0.01/3,submit=0.01/2") }) { server in
            let (alice, _) = try await server.creator()
            let (bob, _) = try await server.creator()
            var remaining: [String] = []
            for _ in 0..<3 {
                let response = try await alice.send(.GET, "/v1/me")
                #expect(response.status == 200)
                #expect(response.headers["RateLimit-Limit"].first == "3")
                remaining += response.headers["RateLimit-Remaining"]
            }
            #expect(remaining == ["2", "1", "0"])
            let refused = try await alice.send(.GET, "/v1/jobs")
            #expect(refused.status == 429)
            #expect(refused.problem?.slug == "rate-limited")
            #expect(refused.problem?.detail.contains("3 read requests at once") == true, "\(refused.text)")
            let retryAfter = Int(refused.headers["Retry-After"].first ?? "") ?? 0
            #expect(retryAfter > 60)
            #expect(refused.headers["RateLimit-Remaining"].first == "0")
            #expect(Int(refused.headers["RateLimit-Reset"].first ?? "") ?? 0 >= retryAfter)

            // Submissions have a bucket of their own, and bob's key has its own buckets.
            #expect(try await alice.send(.POST, "/v1/jobs", json: smallImage()).status == 202)
            #expect(try await bob.send(.GET, "/v1/me").status == 200)
            // Nothing the server has to offer needs a key to be refused: health has no key, no limit.
            #expect(try await server.client(nil).send(.GET, "/v1/health").status == 200)
        }
    }

    @Test("failed authentications are limited per address; keys that worked before keep working")
    func authFailures() async throws {
        try await withServer(configure: { $0.rateLimits = try! RateLimits(spec: "auth-failures=0.01/3") }) { server in
            let (alice, _) = try await server.creator()
            let (bob, _) = try await server.creator()
            #expect(try await alice.send(.GET, "/v1/me").status == 200)
            let guesser = server.client("atl_creator_guess000000000000000000000000000")
            let statuses = try await (0..<5).asyncMap { _ in try await guesser.send(.GET, "/v1/me").status }
            #expect(statuses == [401, 401, 401, 429, 429])
            let refused = try await guesser.send(.GET, "/v1/me")
            #expect(refused.problem?.slug == "rate-limited")
            #expect(refused.problem?.detail.contains("failed authentications") == true)
            #expect(Int(refused.headers["Retry-After"].first ?? "") ?? 0 > 60)
            // Alice's key authenticated before; it is not locked out with the guesser.
            #expect(try await alice.send(.GET, "/v1/me").status == 200)
            // A key first used from this address now waits like the guesser.
            #expect(try await bob.send(.GET, "/v1/me").status == 429)
        }
    }
}

extension Range<Int> {
    /// Runs `body` for each element in order, one at a time.
    func asyncMap<T>(_ body: (Int) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await body(element)) }
        return results
    }
}
