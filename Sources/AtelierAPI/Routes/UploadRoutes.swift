import AtelierBlobs
import AtelierCore
import AtelierMedia
import AtelierWire
import Foundation
import Hummingbird
import NIOCore

/// Reference images and clips for planning: stored for the calling creator, typed by content.
extension RouteTable {
    func addUploadRoutes(_ services: APIServices) {
        add(.post, "/v1/uploads") { request, _ in
            guard case .creator(let creatorID) = try await services.auth.require(request, .creator) else {
                throw APIProblem.forbidden("only creators upload references")
            }
            guard let inspector = services.mediaInspector else {
                throw APIProblem(.serviceUnavailable, slug: "media-tools-missing", title: "This server cannot read media",
                                 detail: "uploads are checked with ffmpeg and ffprobe, which were not found; the operator can "
                                    + FFmpeg.missingAdvice)
            }
            let body = try await request.body.collect(upTo: Self.referenceUploadLimit)
            guard body.readableBytes > 0 else {
                throw APIProblem(.unprocessableContent, slug: "empty-upload", title: "The upload is empty",
                                 detail: "send the image or clip's bytes as the request body")
            }
            let data = Data(buffer: body)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-upload-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // The file's name here is ours; nothing the client sent names a path.
            let file = directory.appendingPathComponent("upload")
            try data.write(to: file)
            let inspection: MediaInspector.Inspection
            do throws(MediaInspector.Refusal) {
                inspection = try await inspector.inspect(file)
            } catch {
                switch error {
                case .unsupported(let reason):
                    throw APIProblem(.unsupportedMediaType, slug: "unsupported-upload", title: "Not a supported image or clip",
                                     detail: "\(reason); upload PNG, JPEG or WebP images, or MP4 or WebM clips")
                case .damaged(let reason):
                    throw APIProblem(.unprocessableContent, slug: "damaged-upload", title: "The file cannot be used",
                                     detail: reason)
                }
            }
            let id = services.ids.uploadID()
            let key = try BlobKey.upload(creator: creatorID, upload: id, fileExtension: inspection.format.fileExtension)
            let stored = try await services.blobs.put(data, at: key)
            let upload = Upload(
                id: id, creatorID: creatorID, kind: inspection.format.kind, contentType: inspection.format.contentType,
                byteCount: stored.byteCount, sha256: stored.sha256, width: inspection.width, height: inspection.height,
                durationS: inspection.durationS, features: inspection.features, storageKey: key.rawValue,
                createdAt: services.clock.now
            )
            try await services.store.createUpload(upload)
            // Answer with the record as stored (its time at the store's precision), so this
            // response and every later GET show the same upload.
            let record = try await services.store.upload(id: id, scope: .creator(creatorID)) ?? upload
            return try services.json.response(UploadResource(record), status: .created,
                                              headers: [.location: "/v1/uploads/\(id.rawValue)"])
        }

        add(.get, "/v1/uploads/{id}") { request, context in
            let principal = try await services.auth.require(request, .creator, .admin)
            guard let id = context.parameters.get("id").flatMap(UploadID.init(rawValue:)),
                  let upload = try await services.store.upload(id: id, scope: APIServices.scope(of: principal)) else {
                throw APIProblem.notFound("the upload")
            }
            return try services.json.response(UploadResource(upload))
        }
    }

    /// Largest reference image or clip.
    static var referenceUploadLimit: Int { 64 * 1024 * 1024 }
}
