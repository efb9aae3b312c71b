import AtelierLedger
import Foundation
import Testing

@Suite struct LedgerEntryTests {
    @Test func canonicalJSONFollowsRFC8785() {
        let value = CanonicalJSON.object([
            "b": .array([.integer(-3), .bool(true), .null]),
            "a": .string("line\nquote\" back\\ tab\t bell\u{07} é €"),
            "\u{20AC}": .integer(1),
            "\u{0080}": .integer(2),
            "A": .object([:]),
        ])
        #expect(value.text == #"{"A":{},"a":"line\nquote\" back\\ tab\t bell\u0007 é €","b":[-3,true,null],"\#u{0080}":2,"€":1}"#)
    }

    @Test func anEntryIsCanonicalAndNamesWhatItMust() throws {
        let entry = LedgerEntry(
            jobID: "job_1", parentJobID: nil, creatorID: "cr_1", kind: "image", modelID: "builtin",
            modelVersion: "procedural-1", promptSHA256: LedgerEntry.sha256Hex(Array("a fox".utf8)),
            paramsSHA256: String(repeating: "0", count: 64), inputs: [],
            outputs: [.init(name: "image.png", contentType: "image/png", sha256: String(repeating: "a", count: 64))],
            createdAtMicros: 1_795_000_000_123_456, completedAtMicros: 1_795_000_001_000_000)
        let text = String(decoding: entry.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"completed_at":"2026-11-18T11:06:41.000000Z","created_at":"2026-11-18T11:06:40.123456Z","#))
        #expect(!text.contains(" "))
        #expect(!text.contains("a fox"))
        #expect(!text.contains("parent_job_id"))
        var scene = entry
        scene.parentJobID = "job_0"
        #expect(String(decoding: scene.bytes, as: UTF8.self).contains(#""parent_job_id":"job_0""#))
        let reading = try LedgerEntryReading(bytes: entry.bytes)
        #expect(reading.job_id == "job_1" && reading.outputs.first?.sha256 == String(repeating: "a", count: 64))
        #expect(LedgerEntry.rfc3339(micros: -1) == "1969-12-31T23:59:59.999999Z")
    }

    @Test func tilePathsRoundTrip() throws {
        let cases: [(TilePath, String)] = [
            (TilePath(level: 0, index: 0), "0/000"),
            (TilePath(level: 1, index: 1_234_067), "1/x001/x234/067"),
            (TilePath(level: nil, index: 5, width: 7), "entries/005.p/7"),
            (TilePath(level: 2, index: 1000, width: 255), "2/x001/000.p/255"),
        ]
        for (tile, path) in cases {
            #expect(tile.path == path)
            #expect(try TilePath(path: path) == tile)
        }
        for bad in ["0/1", "0/x000/001", "0/001.p/256", "0/001.p/0", "9/000", "0/../000", "entries", "0/x1/000", "00/000"] {
            #expect(throws: LedgerError.self, "\(bad)") { try TilePath(path: bad) }
        }
    }
}
