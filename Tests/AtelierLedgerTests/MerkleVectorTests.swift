import AtelierLedger
import Foundation
import Testing

/// Every inclusion and consistency case of transparency-dev/merkle in `../shared/testdata/merkle`:
/// the good proofs verify and every tampered one (`wantErr`) is rejected.
@Suite struct MerkleVectorTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/testdata/merkle")

    static func cases(_ kind: String) -> [String] {
        let base = root.appendingPathComponent(kind)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted()
    }

    static let inclusionCases = cases("inclusion")
    static let consistencyCases = cases("consistency")

    /// Indexes beyond Int64 (the vectors use 2^64 − 1) cannot name a leaf of any log we keep.
    static func index(_ value: UInt64) throws(LedgerError) -> Int64 {
        guard let index = Int64(exactly: value) else { throw LedgerError("index \(value) is out of range") }
        return index
    }

    static func bytes(_ text: String?) -> [UInt8] { text.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [] }

    struct Inclusion: Decodable {
        var leafIdx: UInt64
        var treeSize: UInt64
        var root: String
        var leafHash: String
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    struct Consistency: Decodable {
        var size1: UInt64
        var size2: UInt64
        var root1: String
        var root2: String
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    @Test func theVectorsAreThere() {
        #expect(Self.inclusionCases.count >= 60, "expected inclusion vectors under \(Self.root.path)")
        #expect(Self.consistencyCases.count >= 60, "expected consistency vectors under \(Self.root.path)")
        #expect(Self.inclusionCases.contains { $0.contains("happy-path") })
    }

    @Test(arguments: inclusionCases)
    func inclusion(_ name: String) throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("inclusion/\(name)"))
        let vector = try JSONDecoder().decode(Inclusion.self, from: data)
        let result = Result { () throws(LedgerError) in
            try MerkleVerifier.verifyInclusion(
                leafIndex: try Self.index(vector.leafIdx), treeSize: try Self.index(vector.treeSize), leafHash: Self.bytes(vector.leafHash),
                proof: (vector.proof ?? []).map(Self.bytes), root: Self.bytes(vector.root))
        }
        if vector.wantErr {
            #expect(throws: LedgerError.self, "\(name): \(vector.desc)") { try result.get() }
        } else {
            #expect(throws: Never.self, "\(name): \(vector.desc)") { try result.get() }
        }
    }

    @Test(arguments: consistencyCases)
    func consistency(_ name: String) throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("consistency/\(name)"))
        let vector = try JSONDecoder().decode(Consistency.self, from: data)
        let result = Result { () throws(LedgerError) in
            try MerkleVerifier.verifyConsistency(
                from: try Self.index(vector.size1), to: try Self.index(vector.size2), root1: Self.bytes(vector.root1), root2: Self.bytes(vector.root2),
                proof: (vector.proof ?? []).map(Self.bytes))
        }
        if vector.wantErr {
            #expect(throws: LedgerError.self, "\(name): \(vector.desc)") { try result.get() }
        } else {
            #expect(throws: Never.self, "\(name): \(vector.desc)") { try result.get() }
        }
    }

    /// RFC 6962's classic 8-leaf tree and the empty leaf's hash (testdata/README.md).
    @Test func knownAnswers() throws {
        let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                 "606162636465666768696a6b6c6d6e6f"].map(Self.hexBytes)
        #expect(MerkleHash.leaf(leaves[0]).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        var frontier = MerkleFrontier()
        for leaf in leaves { _ = frontier.append(leaf: .leaf(leaf)) }
        #expect(frontier.root.base64 == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index ..< next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
