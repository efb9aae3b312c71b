import AtelierCore
import AtelierLedger
import AtelierStore
import AtelierWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The chain of title over HTTP. The log itself (checkpoints, key, proofs, tiles) is public, as
/// transparency logs are: it holds only hashes and identifiers, and auditors and witnesses
/// need no account. A job's receipt is for its creator or an admin.
extension RouteTable {
    func addLedgerRoutes(_ services: APIServices) {
        let ledger = services.store.ledger

        add(.get, "/v1/ledger/checkpoint") { _, _ in
            guard let latest = try await ledger.latestLedgerCheckpoint() else {
                throw APIProblem(.notFound, slug: "ledger-empty", title: "The ledger has no checkpoint yet",
                                 detail: "no job has succeeded yet, or the first checkpoint is being signed; try again shortly",
                                 headers: [.retryAfter: "1"])
            }
            return Self.text(latest.note)
        }

        add(.get, "/v1/ledger/key") { _, _ in
            Self.text(services.ledger.signer.verifier.encoded + "\n")
        }

        add(.get, "/v1/ledger/checkpoints") { request, _ in
            let parameters = request.uri.queryParameters
            let from = try Self.integer(parameters["from"], name: "from", default: 0, range: 0 ... Int64.max)
            let limit = try Self.integer(parameters["limit"], name: "limit", default: 100, range: 1 ... 1_000)
            let page = try await ledger.ledgerCheckpoints(from: from, limit: Int(limit) + 1)
            let data = page.prefix(Int(limit)).map {
                CheckpointResource(treeSize: $0.treeSize, checkpoint: $0.note, createdAt: $0.createdAt)
            }
            let next = page.count > Int(limit) ? page.last.map { String($0.treeSize) } : nil
            return try services.json.response(ListBody(data: Array(data), nextCursor: next))
        }

        add(.get, "/v1/ledger/proof/consistency") { request, _ in
            let parameters = request.uri.queryParameters
            let signed = try await ledger.latestLedgerCheckpoint()?.treeSize ?? 0
            let from = try Self.integer(parameters["from"], name: "from", default: nil, range: 1 ... Int64.max)
            let to = try Self.integer(parameters["to"], name: "to", default: nil, range: 1 ... Int64.max)
            guard from <= to, to <= signed else {
                throw APIProblem.validation([FieldError(field: "to", message:
                    "needs 1 ≤ from ≤ to ≤ \(signed), the largest signed tree size")])
            }
            let proof = try await ledger.consistencyProof(from: from, to: to)
            return try services.json.response(ConsistencyProofResource(from: from, to: to, proof: proof.map(\.base64)))
        }

        add(.get, "/v1/ledger/tile/{path}", matching: "/v1/ledger/tile/**") { _, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            guard let tile = try? TilePath(path: path) else { throw APIProblem.notFound("the tile \(path)") }
            let signed = try await ledger.latestLedgerCheckpoint()?.treeSize ?? 0
            let first = tile.index * TilePath.width
            if let level = tile.level {
                // Tile hashes are complete subtrees at Merkle level 8·L, all inside the signed tree.
                let nodeLevel = level * TilePath.height
                guard (first + tile.width) << Int64(nodeLevel) <= signed else {
                    throw APIProblem.notFound("the tile \(path) (beyond the signed tree)")
                }
                let indexes = (first ..< first + tile.width).map { Subtree(level: nodeLevel, index: $0).storedIndex }
                let hashes = try await ledger.ledgerHashes(indexes)
                var body = ByteBuffer()
                for index in indexes {
                    guard let hash = hashes[index] else { throw StoreError(.corrupt, "ledger hash \(index) is missing") }
                    body.writeBytes(hash.bytes)
                }
                return Self.tile(body)
            }
            guard first + tile.width <= signed else {
                throw APIProblem.notFound("the entry bundle \(path) (beyond the signed tree)")
            }
            var body = ByteBuffer()
            for leaf in try await ledger.ledgerLeaves(from: first, count: Int(tile.width)) {
                guard let length = UInt16(exactly: leaf.entry.count) else {
                    throw StoreError(.corrupt, "entry \(leaf.index) is longer than an entry bundle can hold")
                }
                body.writeInteger(length)
                body.writeBytes(leaf.entry)
            }
            return Self.tile(body)
        }

        add(.get, "/v1/jobs/{id}/provenance") { request, context in
            let principal = try await services.auth.require(request, .creator, .admin)
            let job = try await Self.job(context, services: services, scope: APIServices.scope(of: principal))
            guard job.status == .succeeded else {
                throw APIProblem.conflict(slug: "job-not-succeeded", title: "Only succeeded jobs have provenance",
                                          detail: "job \(job.id) is \(job.status.rawValue)", jobID: job.id.rawValue)
            }
            guard let leaf = try await ledger.ledgerLeaf(job: job.id),
                  let checkpoint = try await ledger.latestLedgerCheckpoint(), checkpoint.treeSize > leaf.index
            else {
                throw APIProblem(.conflict, slug: "provenance-pending", title: "The receipt is not signed yet",
                                 detail: "job \(job.id) is being added to the ledger; its receipt is ready within seconds",
                                 jobID: job.id.rawValue, headers: [.retryAfter: "1"])
            }
            let proof = try await ledger.inclusionProof(leaf: leaf.index, treeSize: checkpoint.treeSize)
            let root = try await ledger.rootHash(treeSize: checkpoint.treeSize)
            return try services.json.response(ProvenanceResource(
                leafIndex: leaf.index, entry: Data(leaf.entry).base64EncodedString(),
                leafHash: MerkleHash.leaf(leaf.entry).base64, treeSize: checkpoint.treeSize, rootHash: root.base64,
                inclusionProof: proof.map(\.base64), checkpoint: checkpoint.note))
        }
    }

    static func text(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func tile(_ body: ByteBuffer) -> Response {
        // A tile never changes once served (a partial tile has its own path), so caches may keep it.
        Response(status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "public, max-age=31536000, immutable"],
                 body: .init(byteBuffer: body))
    }

    /// A query parameter that must be an integer in `range` (`fallback` when absent, else required).
    static func integer(_ value: Substring?, name: String, default fallback: Int64?, range: ClosedRange<Int64>) throws -> Int64 {
        guard let value else {
            if let fallback { return fallback }
            throw APIProblem.validation([FieldError(field: name, message: "is required")])
        }
        guard let number = Int64(value), range.contains(number) else {
            let upper = range.upperBound == .max ? "" : " to \(range.upperBound)"
            throw APIProblem.validation([FieldError(field: name, message: "must be an integer from \(range.lowerBound)\(upper)")])
        }
        return number
    }
}
