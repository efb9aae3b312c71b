import AtelierCore
import AtelierWire
import Foundation
import Testing

@Suite("Wire conventions")
struct WireCodingTests {
    @Test("timestamps are formatted exactly as Foundation's ISO 8601 style does, for any date")
    func timestampsMatchFoundation() {
        let reference = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        var generator = SplitMix64(seed: 20261122)
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 951_782_400), // 2000-02-29
                     Date(timeIntervalSince1970: 4_107_542_399.999), Date(timeIntervalSince1970: -2_208_988_800)]
        for _ in 0..<5000 {
            // Whole milliseconds between 1900 and 2200, so rounding cannot differ.
            let milliseconds = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)
            dates.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
        for date in dates {
            // Foundation truncates to milliseconds, so 17.691 held as 17.69099… prints .690; nudged
            // by a fifth of a millisecond it prints the intended one, which ours rounds to.
            let nudged = Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000 + 0.0002)
            #expect(WireCoding.formatTimestamp(date) == nudged.formatted(reference), "\(date.timeIntervalSince1970)")
            let parsed = WireCoding.parseTimestamp(WireCoding.formatTimestamp(date))
            #expect(parsed.map { abs($0.timeIntervalSince(date)) < 0.0005 } == true)
        }
    }

    @Test("hex is lower-case, two digits a byte")
    func hex() {
        #expect(Hex.encode([0x00, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
        #expect(Hex.encode([UInt8]()) == "")
        let all = Hex.encode((0...255).map(UInt8.init))
        #expect(all == (0...255).map { String(format: "%02x", $0) }.joined())
    }
}
