public import Foundation
import Synchronization

/// The configured planners in order. Each is given its timeout; an answer that fails, times out
/// or does not survive validation passes the request to the next. Every outcome is kept as the
/// provider's health.
public final class PlannerChain: Sendable {
    public struct Link: Sendable {
        public var planner: any Planner
        public var timeout: Duration
        /// Where it is reached and which model it asks, for `GET /v1/providers`.
        public var endpoint: String?
        public var model: String?

        public init(planner: any Planner, timeout: Duration, endpoint: String? = nil, model: String? = nil) {
            self.planner = planner
            self.timeout = timeout
            self.endpoint = endpoint
            self.model = model
        }
    }

    /// What is known of a provider from its recent answers.
    public struct Health: Sendable, Hashable {
        public var successes = 0
        public var failures = 0
        public var lastError: String?
        public var lastSuccessAt: Date?
        public var lastFailureAt: Date?
        public var lastLatencyMilliseconds: Double?

        /// `ok` after a good answer, `failing` after a failed one, `unknown` before any.
        public var status: String {
            switch (lastSuccessAt, lastFailureAt) {
            case (nil, nil): "unknown"
            case (.some, nil): "ok"
            case (nil, .some): "failing"
            case (.some(let success), .some(let failure)): success >= failure ? "ok" : "failing"
            }
        }
    }

    /// Every provider failed.
    public struct Exhausted: Error, Sendable {
        public var failures: [(provider: String, failure: PlannerFailure)]
    }

    public let links: [Link]
    private let health: Mutex<[String: Health]>

    public init(_ links: [Link]) {
        self.links = links
        health = Mutex([:])
    }

    /// The names in order, e.g. `openai>builtin` (part of the cache key).
    public var signature: String { links.map(\.planner.name).joined(separator: ">") }

    public func health(of name: String) -> Health {
        health.withLock { $0[name] ?? Health() }
    }

    /// The first provider's plan that validates; earlier providers' failures become warnings.
    public func plan(_ brief: PlanningBrief) async throws(Exhausted) -> (checked: PlanValidator.Checked, provider: String) {
        var failures: [(provider: String, failure: PlannerFailure)] = []
        for link in links {
            let started = ContinuousClock.now
            do {
                let draft = try await Self.draft(link, brief)
                var checked = try PlanValidator.check(draft, brief: brief)
                record(link.planner.name, failure: nil, latency: ContinuousClock.now - started)
                checked.warnings.insert(contentsOf: failures.map {
                    PlanWarning(code: "provider_failed", message: "\($0.provider): \($0.failure.message)")
                }, at: 0)
                return (checked, link.planner.name)
            } catch {
                record(link.planner.name, failure: error, latency: ContinuousClock.now - started)
                failures.append((link.planner.name, error))
            }
        }
        throw Exhausted(failures: failures)
    }

    /// The provider's draft within its timeout.
    private static func draft(_ link: Link, _ brief: PlanningBrief) async throws(PlannerFailure) -> PlanDraft {
        let planner = link.planner
        let outcome: Result<PlanDraft, PlannerFailure> = await withTaskGroup(of: Result<PlanDraft, PlannerFailure>?.self) { group in
            group.addTask {
                do {
                    return .success(try await planner.draft(brief))
                } catch let failure as PlannerFailure {
                    return .failure(failure)
                } catch {
                    return .failure(PlannerFailure(.malformed, "\(error)"))
                }
            }
            group.addTask {
                try? await Task.sleep(for: link.timeout)
                return Task.isCancelled ? nil : .failure(PlannerFailure(.timeout, "no answer within \(link.timeout)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(PlannerFailure(.timeout, "no answer within \(link.timeout)"))
        }
        return try outcome.get()
    }

    private func record(_ name: String, failure: PlannerFailure?, latency: Duration) {
        let now = Date()
        let milliseconds = latency / .milliseconds(1)
        health.withLock { table in
            var entry = table[name] ?? Health()
            entry.lastLatencyMilliseconds = (milliseconds * 10).rounded() / 10
            if let failure {
                entry.failures += 1
                entry.lastFailureAt = now
                entry.lastError = "\(failure.reason.rawValue): \(failure.message)"
            } else {
                entry.successes += 1
                entry.lastSuccessAt = now
            }
            table[name] = entry
        }
    }
}
