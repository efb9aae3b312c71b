import AtelierCore
import AtelierBlobs
import AtelierStore
import AtelierWire
import Foundation
import Hummingbird
import NIOCore

/// Artifact downloads: with the owner's key, or with a signed URL and no key at all.
extension RouteTable {
    func addArtifactRoutes(_ services: APIServices) {
        add(.get, "/v1/artifacts/{id}") { request, context in
            let id = context.parameters.get("id").flatMap(ArtifactID.init(rawValue:))
            let parameters = request.uri.queryParameters
            let scope: AccessScope
            if parameters["signature"] != nil || parameters["expires"] != nil {
                guard let id else { throw Self.badSignature }
                switch services.signer.verify(id, expires: parameters["expires"].map(String.init),
                                              signature: parameters["signature"].map(String.init), now: services.clock.now) {
                case .valid: scope = .operator
                case .expired:
                    throw APIProblem(.forbidden, slug: "signature-expired", title: "The link has expired",
                                     detail: "signed artifact links work for a limited time; fetch the job again for a fresh one")
                case .invalid: throw Self.badSignature
                }
            } else {
                scope = APIServices.scope(of: try await services.auth.require(request, .creator, .admin))
            }
            guard let id, let artifact = try await services.store.artifact(id: id, scope: scope),
                  let key = BlobKey(rawValue: artifact.storageKey) else {
                throw APIProblem.notFound("the artifact")
            }
            let data = try await services.blobs.get(key)
            let headers: HTTPFields = [
                .contentType: artifact.contentType,
                .eTag: "\"\(artifact.sha256)\"",
                .contentDisposition: "inline; filename=\"\(artifact.name)\"",
                .cacheControl: "private, max-age=3600, immutable",
            ]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    private static var badSignature: APIProblem {
        APIProblem(.forbidden, slug: "signature-invalid", title: "The link's signature is not valid",
                   detail: "the signed URL was altered or is incomplete; fetch the job again for a fresh link")
    }
}
