import AtelierPlanning
import Foundation
import Testing

@Suite("The plan cache and the content policy")
struct PlanCacheAndPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the least recently used entry is evicted first, and a read counts as a use")
    func leastRecentlyUsed() {
        let cache = PlanCache<Int>(capacity: 3, timeToLive: 60)
        for (key, value) in [("a", 1), ("b", 2), ("c", 3)] { cache.store(value, for: key, now: now) }
        #expect(cache.value(for: "a", now: now) == 1)
        cache.store(4, for: "d", now: now)
        #expect(cache.value(for: "b", now: now) == nil)
        #expect(cache.value(for: "a", now: now) == 1)
        #expect(cache.value(for: "c", now: now) == 3)
        #expect(cache.value(for: "d", now: now) == 4)
        cache.store(5, for: "c", now: now)
        cache.store(6, for: "e", now: now)
        #expect(cache.value(for: "a", now: now) == nil)
        #expect(cache.value(for: "c", now: now) == 5)
        #expect(cache.count == 3)
    }

    @Test("entries expire after their time to live; clear empties the cache and says how much it held")
    func expiryAndClear() {
        let cache = PlanCache<String>(capacity: 10, timeToLive: 30)
        cache.store("plan", for: "k", now: now)
        #expect(cache.value(for: "k", now: now.addingTimeInterval(29)) == "plan")
        #expect(cache.value(for: "k", now: now.addingTimeInterval(31)) == nil)
        #expect(cache.count == 0)
        for index in 0..<7 { cache.store("p\(index)", for: "k\(index)", now: now) }
        #expect(cache.clear() == 7)
        #expect(cache.value(for: "k3", now: now) == nil)
        let off = PlanCache<String>(capacity: 0, timeToLive: 30)
        off.store("x", for: "k", now: now)
        #expect(off.value(for: "k", now: now) == nil)
    }

    @Test("terms match whole words and phrases, in any case and across punctuation")
    func policyMatching() throws {
        let policy = try JSONDecoder().decode(ContentPolicy.self, from: Data("""
        {"categories": [{"name": "violence/graphic", "terms": ["gore", "severed head"]}, {"name": "weapons", "terms": ["pipe bomb"]}]}
        """.utf8))
        #expect(policy.category(matching: "a castle covered in GORE") == "violence/graphic")
        #expect(policy.category(matching: "a knight holds a Severed-Head aloft") == "violence/graphic")
        #expect(policy.category(matching: "how to build a pipe bomb") == "weapons")
        #expect(policy.category(matching: "Al Gore gives a speech") == "violence/graphic")
        #expect(policy.category(matching: "a gorge at sunset") == nil)
        #expect(policy.category(matching: "a severed rope and a head of lettuce") == nil)
        #expect(ContentPolicy.defaults.category(matching: "a peaceful meadow") == nil)
        #expect(ContentPolicy.defaults.category(matching: "CSAM") == "sexual/minors")
    }

    @Test("a policy file that is not a policy stops the server from starting, naming the file")
    func badPolicyFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).json")
        try Data(#"{"rules": []}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: PlanningConfigurationError.self) {
            try PlanningConfiguration(environment: ["ATELIER_CONTENT_POLICY": file.path])
        }
        #expect(throws: PlanningConfigurationError.self) { try PlanningConfiguration(environment: ["ATELIER_PLANNERS": "gpt"]) }
        #expect(throws: PlanningConfigurationError.self) { try PlanningConfiguration(environment: ["ATELIER_PLANNERS": "builtin,builtin"]) }
        #expect(throws: PlanningConfigurationError.self) {
            try PlanningConfiguration(environment: ["ATELIER_PLANNERS": "openai", "ATELIER_OPENAI_BASE_URL": "ftp://x"])
        }
        let configured = try PlanningConfiguration(environment: ["ATELIER_PLANNERS": "openai, anthropic ,builtin"])
        #expect(configured.links.map(\.planner.name) == ["openai", "anthropic", "builtin"])
    }
}
