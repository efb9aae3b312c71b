import AtelierCore
import AtelierScheduler
import Foundation
import Testing

/// Properties of the fair-share policy under random arrivals, costs and weights.
@Suite struct FairQueuePropertyTests {
    static let seeds: [UInt64] = Array(1...12)

    @Test(arguments: seeds)
    func backloggedCreatorsStayWithinOneJobOfTheirShare(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var queue = FairQueue<Int>()
        let creators = (0..<(2 + Int(random.next() % 5))).map { index in
            (name: "c\(index)", weight: 1 + Int(random.next() % 6))
        }
        let maximumCost = 1 + Int(random.next() % 30)
        for creator in creators {
            for item in 0..<1_000 {  // more than any creator can be served below: all stay backlogged
                queue.enqueue(item, creator: creator.name, weight: creator.weight, cost: 1 + Int(random.next() % UInt64(maximumCost)))
            }
        }
        var service: [String: Int] = [:]
        for _ in 0..<600 {
            let entry = queue.dequeue()!
            service[entry.creator, default: 0] += entry.cost
            // SFQ's bound: |S_i/w_i − S_j/w_j| ≤ maxCost/w_i + maxCost/w_j for backlogged i, j.
            for i in creators {
                for j in creators {
                    let gap = abs(Double(service[i.name, default: 0]) / Double(i.weight)
                        - Double(service[j.name, default: 0]) / Double(j.weight))
                    let bound = Double(maximumCost) / Double(i.weight) + Double(maximumCost) / Double(j.weight)
                    #expect(gap <= bound + 0.001, "seed \(seed): \(i) vs \(j) gap \(gap) > \(bound)")
                }
            }
        }
    }

    @Test(arguments: seeds)
    func everyArrivalIsServedWithinOneRound(seed: UInt64) {
        // Random arrivals and departures: a creator becoming ready is served before any other
        // creator is served twice, so nobody starves however much others have queued.
        var random = SplitMix64(seed: seed)
        var queue = FairQueue<Int>()
        var waitingSince: [String: Int] = [:]
        var servedSince: [String: [String: Int]] = [:]
        var item = 0
        for _ in 0..<3_000 {
            if random.next() % 3 != 0 {
                let creator = "c\(random.next() % 8)"
                let weight = 1 + Int(creator.dropFirst())! % 3
                item += 1
                let wasIdle = !hasWaiting(queue, creator)
                queue.enqueue(item, creator: creator, weight: weight, cost: 1 + Int(random.next() % 5))
                if wasIdle { waitingSince[creator] = item; servedSince[creator] = [:] }
            } else if let entry = queue.dequeue() {
                waitingSince[entry.creator] = nil
                servedSince[entry.creator] = nil
                for other in servedSince.keys {
                    servedSince[other]![entry.creator, default: 0] += 1
                    #expect(servedSince[other]![entry.creator]! <= 1 + 5, "seed \(seed): \(other) starved by \(entry.creator)")
                }
            }
        }
    }

    private func hasWaiting(_ queue: FairQueue<Int>, _ creator: String) -> Bool {
        var copy = queue
        return copy.dequeue { $0.creator == creator } != nil
    }

    @Test func weightsSetTheShares() {
        var queue = FairQueue<Int>()
        for (name, weight) in [("a", 1), ("b", 2), ("c", 4)] {
            for item in 0..<2_000 { queue.enqueue(item, creator: name, weight: weight, cost: 5) }
        }
        var counts: [String: Int] = [:]
        for _ in 0..<1_400 { counts[queue.dequeue()!.creator, default: 0] += 1 }
        #expect(counts == ["a": 200, "b": 400, "c": 800])
    }

    @Test func aReturningCreatorHasNoBankedCredit() {
        var queue = FairQueue<Int>()
        queue.enqueue(0, creator: "sleeper", weight: 1, cost: 1)
        _ = queue.dequeue()
        for item in 0..<500 {
            queue.enqueue(item, creator: "a", weight: 1, cost: 1)
            queue.enqueue(item, creator: "b", weight: 1, cost: 1)
        }
        for _ in 0..<300 { _ = queue.dequeue() }
        for item in 0..<100 { queue.enqueue(item, creator: "sleeper", weight: 1, cost: 1) }
        let next = (0..<30).map { _ in queue.dequeue()!.creator }
        #expect(next.filter { $0 == "sleeper" }.count == 10)
        // It joins behind the creator already at the head of the line.
        #expect(next.first != "sleeper")
    }

    @Test func priorityThenArrivalWithinACreator() {
        var queue = FairQueue<String>()
        queue.enqueue("low", creator: "a", weight: 1, cost: 1, priority: -1)
        queue.enqueue("first", creator: "a", weight: 1, cost: 1)
        queue.enqueue("urgent", creator: "a", weight: 1, cost: 1, priority: 9)
        queue.enqueue("second", creator: "a", weight: 1, cost: 1)
        #expect((0..<4).map { _ in queue.dequeue()!.item } == ["urgent", "first", "second", "low"])
        #expect(queue.dequeue() == nil)
    }

    @Test func chargesScaleInverselyWithWeight() {
        #expect(FairShare.charge(cost: 3, weight: 1) == 3 * FairShare.scale)
        #expect(FairShare.charge(cost: 3, weight: 3) == FairShare.scale)
        #expect(FairShare.charge(cost: 1, weight: 3) == (FairShare.scale + 2) / 3)
        #expect(FairShare.activationPass(previous: 10, floor: 4) == 10)
        #expect(FairShare.activationPass(previous: 2, floor: 4) == 4)
        #expect(FairShare.poolFloor(minimumWaitingPass: nil, maximumPass: 9) == 9)
    }
}
