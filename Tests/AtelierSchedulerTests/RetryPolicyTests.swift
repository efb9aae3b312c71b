import AtelierCore
import AtelierScheduler
import Testing

@Suite struct RetryPolicyTests {
    @Test(arguments: 1...12)
    func delaysGrowExponentiallyWithJitterAndACap(attempt: Int) {
        let policy = RetryPolicy(base: 2, maximum: 600)
        var random = SplitMix64(seed: UInt64(attempt))
        let ceiling = min(600, 2 * Double(1 << (attempt - 1)))
        let delays = (0..<200).map { _ in policy.delay(afterAttempt: attempt, using: &random) }
        #expect(delays.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling })
        // Jitter actually spreads retries out.
        #expect(Set(delays).count > 150)
    }
}
