import AtelierCore
import Foundation
import Testing

@Suite struct IdentifierTests {
    @Test func uuidv7HasVersionVariantAndTime() {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_700_000_000.123))
        let id = IDGenerator(clock: clock, random: SplitMix64(seed: 1)).next()
        let text = id.description
        #expect(text.count == 36)
        let characters = Array(text)
        #expect(characters[14] == "7")
        #expect("89ab".contains(characters[19]))
        #expect(id.milliseconds == 1_700_000_000_123)
    }

    @Test func idsFromOneGeneratorStrictlyIncreaseEvenWithinAMillisecond() {
        let clock = ManualWallClock()
        let generator = IDGenerator(clock: clock, random: SplitMix64(seed: 7))
        var previous = generator.next()
        // 10,000 ids in one frozen millisecond overflow the 12-bit sequence twice.
        for _ in 0..<10_000 {
            let next = generator.next()
            #expect(previous < next)
            #expect(previous.description < next.description)
            previous = next
        }
    }

    @Test(arguments: ["", "../etc", "a/b", "a b", "ünï", String(repeating: "x", count: 65), "a.b"])
    func malformedIdentifiersAreRejected(raw: String) {
        #expect(JobID(rawValue: raw) == nil)
    }

    @Test func wellFormedIdentifiersRoundTrip() throws {
        let id = try #require(JobID(rawValue: "01a3185c-5001-7002-9705-b8770b3d7dd5"))
        let encoded = try JSONEncoder().encode(id)
        #expect(try JSONDecoder().decode(JobID.self, from: encoded) == id)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JobID.self, from: Data("\"../x\"".utf8)) }
    }
}
