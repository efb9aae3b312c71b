import Crypto
import Foundation
import NIOCore

/// The web studio's files (HTML, CSS, JavaScript modules), read once from the module's bundle.
/// A request names a file; it is looked up in this table by name, never turned into a path.
struct StudioAssets: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
        /// A strong validator: the SHA-256 of the bytes.
        var etag: String
    }

    private var files: [String: Asset] = [:]

    /// The page served at `/`.
    static let page = "index.html"

    static let contentTypes = [
        "html": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml",
    ]

    init(directory: URL?) {
        guard let directory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names {
            let ext = (name as NSString).pathExtension
            guard let type = Self.contentTypes[ext],
                  let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { continue }
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            files[name] = Asset(body: ByteBuffer(bytes: data), contentType: type, etag: "\"\(digest.prefix(32))\"")
        }
    }

    /// The studio shipped with the server.
    static let bundled = StudioAssets(directory: Bundle.module.url(forResource: "studio", withExtension: nil))

    subscript(name: String) -> Asset? { files[name] }

    var names: [String] { files.keys.sorted() }
}
