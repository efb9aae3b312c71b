import AtelierCore
import AtelierStore
import Testing

/// The wake-up path of idle dispatchers. A lost wake-up would park a worker for its whole idle
/// timeout, so each test waits with an hour-long timeout under a one-minute limit: a lost
/// wake-up fails the test instead of passing slowly.
@Suite(.timeLimit(.minutes(1)))
struct WorkSignalTests {
    @Test func aRingBeforeTheWaitIsNotLost() async {
        let signal = WorkSignal()
        let ticket = signal.ticket(for: .image)
        signal.ring(.image)
        #expect(signal.hasRung(since: ticket))
        await signal.wait(ticket, timeout: .seconds(3600))
    }

    @Test func aRingWakesEveryWaiterOfThatPoolOnly() async {
        let signal = WorkSignal()
        let imageTicket = signal.ticket(for: .image)
        let videoTicket = signal.ticket(for: .video)
        let waiters = (0..<8).map { _ in Task { await signal.wait(imageTicket, timeout: .seconds(3600)) } }
        signal.ring(.video)
        #expect(!signal.hasRung(since: imageTicket) && signal.hasRung(since: videoTicket))
        signal.ring(.image)
        for waiter in waiters { await waiter.value }
    }

    @Test func aWaitEndsAtItsTimeoutWithoutARing() async {
        let signal = WorkSignal()
        let ticket = signal.ticket(for: .image)
        await signal.wait(ticket, timeout: .milliseconds(20))
        #expect(!signal.hasRung(since: ticket))
    }

    @Test func cancellingAWaiterEndsItsWait() async {
        let signal = WorkSignal()
        let ticket = signal.ticket(for: .image)
        let waiter = Task { await signal.wait(ticket, timeout: .seconds(3600)) }
        waiter.cancel()
        await waiter.value
        // The signal still works for everyone else afterwards.
        let next = signal.ticket(for: .image)
        let other = Task { await signal.wait(next, timeout: .seconds(3600)) }
        signal.ring(.image)
        await other.value
    }

    @Test func parkingRacingARingNeverStrandsAWaiter() async {
        // Every ticket predates every ring, so every waiter must be released, however its
        // parking interleaves with the rings.
        let signal = WorkSignal()
        let tickets = (0..<200).map { _ in signal.ticket(for: .image) }
        await withTaskGroup(of: Void.self) { group in
            for (index, ticket) in tickets.enumerated() {
                group.addTask { await signal.wait(ticket, timeout: .seconds(3600)) }
                if index % 50 == 0 { group.addTask { signal.ring(.image) } }
            }
        }
    }
}
