public import AtelierLedger
import AtelierWire
import Foundation

/// A full audit through a server's public ledger API, as any outside auditor would run it:
/// entries from the C2SP entry bundles (up to the latest signed tree), checkpoints from the
/// checkpoint list and consistency proofs from the proof endpoint. Stored hashes are the
/// server's business, so they are rebuilt rather than compared.
public struct HTTPLedgerAuditSource: LedgerAuditSource {
    let transport: HTTPTransport
    /// The latest signed tree size when the audit started; later entries are not yet public.
    let signedSize: Int64

    public init(server: String, client: HTTPTransport? = nil) async throws {
        let transport = client ?? HTTPTransport(baseURL: server, apiKey: nil)
        self.transport = transport
        let page = try await transport.call(.GET, "/v1/ledger/checkpoints?from=0&limit=1000", as: ListBody<CheckpointResource>.self)
        var last = page.data.last?.treeSize ?? 0
        var next = page.nextCursor
        while let cursor = next {
            let more = try await transport.call(.GET, "/v1/ledger/checkpoints?from=\(cursor)&limit=1000", as: ListBody<CheckpointResource>.self)
            last = more.data.last?.treeSize ?? last
            next = more.nextCursor
        }
        signedSize = last
    }

    public func leaves(from: Int64, count: Int) async throws -> [(index: Int64, entry: [UInt8])] {
        let end = min(signedSize, from + Int64(count))
        guard from < end else { return [] }
        var leaves: [(index: Int64, entry: [UInt8])] = []
        var tile = from / TilePath.width
        while tile * TilePath.width < end {
            let first = tile * TilePath.width
            let width = min(TilePath.width, signedSize - first)
            let path = TilePath(level: nil, index: tile, width: width).path
            let (_, body) = try await transport.send(.GET, "/v1/ledger/tile/\(path)")
            let bytes = [UInt8](body)
            var offset = 0
            var index = first
            while offset < bytes.count {
                guard offset + 2 <= bytes.count else { throw LedgerError("entry bundle \(path) is truncated") }
                let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                guard offset + 2 + length <= bytes.count else { throw LedgerError("entry bundle \(path) is truncated") }
                if index >= from, index < end { leaves.append((index, Array(bytes[offset + 2 ..< offset + 2 + length]))) }
                offset += 2 + length
                index += 1
            }
            guard index == first + width else {
                throw LedgerError("entry bundle \(path) holds \(index - first) entries, not \(width)")
            }
            tile += 1
        }
        return leaves
    }

    public func storedHashes(from: Int64, count: Int) async throws -> [Int64: MerkleHash]? { nil }

    public func checkpoints(from: Int64, limit: Int) async throws -> [(treeSize: Int64, note: String)] {
        let page = try await transport.call(.GET, "/v1/ledger/checkpoints?from=\(from)&limit=\(min(1000, max(1, limit)))",
                                            as: ListBody<CheckpointResource>.self)
        return page.data.filter { $0.treeSize <= signedSize }.map { ($0.treeSize, $0.checkpoint) }
    }

    public func consistencyProof(from: Int64, to: Int64) async throws -> [[UInt8]] {
        let proof = try await transport.call(.GET, "/v1/ledger/proof/consistency?from=\(from)&to=\(to)",
                                             as: ConsistencyProofResource.self)
        return proof.proof.map { Array(Data(base64Encoded: $0) ?? Data()) }
    }
}
