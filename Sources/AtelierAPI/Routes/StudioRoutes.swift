import Foundation
import HTTPTypes
import Hummingbird

/// The web studio: one page at `/` and its files under `/studio/`, all from the server itself
/// (no CDN, no external fonts), so it works offline. The page holds no secrets: it asks for an
/// API key and talks to the same API as every other client.
extension RouteTable {
    func addStudioRoutes(_ assets: StudioAssets) {
        add(.get, "/") { request, _ in
            try Self.serve(StudioAssets.page, from: assets, request: request)
        }
        add(.get, "/studio/{file}") { request, context in
            try Self.serve(context.parameters.get("file") ?? "", from: assets, request: request)
        }
    }

    /// Content-Security-Policy: scripts, styles and API calls only from this origin; images and
    /// media also from blob:/data: (previews) and from direct object-store links when presigned
    /// S3 URLs are on.
    static var studioPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' blob: data: http: https:; media-src 'self' blob: http: https:; "
            + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    private static func serve(_ name: String, from assets: StudioAssets, request: Request) throws -> Response {
        guard let asset = assets[name] else {
            throw APIProblem(.notFound, slug: "not-found", title: "Not found",
                             detail: "the studio has no file named \(name.prefix(100)); the page is at /")
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            .cacheControl: "no-cache",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if asset.contentType.hasPrefix("text/html") {
            headers[HTTPField.Name("Content-Security-Policy")!] = studioPolicy
        }
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}
