import AtelierBlobs
import AtelierCore
import AtelierMedia
import AtelierPlanning
import AtelierWire
import Foundation
import Testing

@Suite("Reference uploads over HTTP")
struct UploadAPITests {
    let ffmpeg: FFmpeg

    init() throws {
        ffmpeg = try #require(FFmpeg.locate(searchPath: ProcessInfo.processInfo.environment["PATH"]))
    }

    /// A real file made by ffmpeg from a lavfi source (`-f lavfi -i SOURCE … out.EXT`).
    func make(_ name: String, source: String, arguments: [String] = []) async throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-upload-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent(name)
        try await ffmpeg.run(["-f", "lavfi", "-i", source] + arguments + [output.path])
        return try Data(contentsOf: output)
    }

    func upload(_ api: API, _ data: Data, contentType: String = "application/octet-stream") async throws -> APIResponse {
        try await api.send(.POST, "/v1/uploads", body: data, contentType: contentType)
    }

    @Test("PNG, JPEG and WebP images and MP4 and WebM clips are typed by content, measured and hashed")
    func goodFiles() async throws {
        let png = try await make("a.png", source: "testsrc2=size=320x180", arguments: ["-frames:v", "1"])
        let jpeg = try await make("a.jpg", source: "testsrc2=size=200x300", arguments: ["-frames:v", "1"])
        let webp = try await make("a.webp", source: "testsrc2=size=256x256", arguments: ["-frames:v", "1"])
        let mp4 = try await make("a.mp4", source: "testsrc2=size=640x360:rate=12:duration=3",
                                 arguments: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let webm = try await make("a.webm", source: "testsrc2=size=320x240:rate=10:duration=2", arguments: ["-c:v", "libvpx-vp9"])
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let (bob, _) = try await server.creator()
            let cases: [(Data, String, String, Int, Int)] = [
                (png, "image/png", "image", 320, 180), (jpeg, "image/jpeg", "image", 200, 300), (webp, "image/webp", "image", 256, 256),
                (mp4, "video/mp4", "video", 640, 360), (webm, "video/webm", "video", 320, 240),
            ]
            for (data, contentType, kind, width, height) in cases {
                // The Content-Type sent is ignored: the bytes decide.
                let response = try await upload(alice, data, contentType: "text/plain")
                #expect(response.status == 201, "\(contentType): \(response.text)")
                let created = try response.decode(UploadResource.self)
                // Each expectation names the file, so a failure says which one it was.
                let file = Comment(rawValue: "\(contentType): \(response.text)")
                #expect(created.contentType == contentType, file)
                #expect(created.kind == kind, file)
                #expect(created.width == width && created.height == height, file)
                #expect(created.bytes == data.count, file)
                #expect(created.sha256 == SHA256Hex.digest(data), file)
                #expect(created.features.palette.count == 3, file)
                #expect((0...1).contains(created.features.brightness), file)
                if kind == "video" {
                    #expect(created.durationS.map { abs($0 - (contentType == "video/mp4" ? 3 : 2)) < 0.2 } == true, file)
                    #expect(created.features.motion.map { $0 > 0 } == true, file)
                } else {
                    #expect(created.durationS == nil && created.features.motion == nil, file)
                }
                #expect(try await alice.send(.GET, "/v1/uploads/\(created.id)").decode(UploadResource.self) == created, file)
                #expect(try await bob.send(.GET, "/v1/uploads/\(created.id)").status == 404, file)
            }
        }
    }

    @Test("a text file, a truncated image, a lying header and an empty body are refused, and nothing is stored")
    func badFiles() async throws {
        let png = try await make("a.png", source: "testsrc2=size=320x180", arguments: ["-frames:v", "1"])
        let mp4 = try await make("a.mp4", source: "testsrc2=size=320x180:rate=10:duration=2", arguments: ["-c:v", "libx264"])
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let text = try await upload(alice, Data("just some words, saved as fox.png\n".utf8), contentType: "image/png")
            #expect(text.status == 415)
            #expect(text.problem?.slug == "unsupported-upload")
            for (name, data) in [("truncated PNG", png.prefix(png.count / 2)), ("truncated MP4", mp4.prefix(mp4.count / 3)),
                                 ("an MP4 header on noise", mp4.prefix(32) + Data(repeating: 0x5A, count: 4_000))] {
                let response = try await upload(alice, Data(data))
                #expect(response.status == 422, "\(name): \(response.text)")
                #expect(response.problem?.slug == "damaged-upload", "\(name)")
            }
            let empty = try await upload(alice, Data())
            #expect(empty.status == 422)
            let blobs = server.dataDirectory.appendingPathComponent("blobs")
            let stored = (try? FileManager.default.subpathsOfDirectory(atPath: blobs.path))?.filter { $0.hasSuffix("source.png") || $0.hasSuffix("source.mp4") } ?? []
            #expect(stored.isEmpty, "\(stored)")
            #expect(try await server.admin.send(.POST, "/v1/uploads", body: png, contentType: "image/png").status == 403)
        }
    }

    @Test("a clip sets the plan's length, aspect, light and colours; words refine them; clips outweigh images")
    func referencesShapeThePlan() async throws {
        let darkClip = try await make("dark.mp4", source: "color=c=0x0A0C1E:size=640x360:rate=10:duration=5",
                                      arguments: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let brightPortrait = try await make("bright.png", source: "color=c=0xF0E0A0:size=360x640", arguments: ["-frames:v", "1"])
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let clip = try await upload(alice, darkClip).decode(UploadResource.self)
            let image = try await upload(alice, brightPortrait).decode(UploadResource.self)

            let fromClip = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a lighthouse by the sea", inputs: [clip.id]))
            #expect(fromClip.status == 200, "\(fromClip.text)")
            let plan = try fromClip.decode(PlanResult.self)
            #expect(plan.creativeDirection.durationS == 5)
            #expect(plan.creativeDirection.aspect == "16:9")
            #expect(plan.creativeDirection.timeOfDay == "night")
            #expect(plan.creativeDirection.palette.first == clip.features.palette.first)
            #expect(plan.creativeDirection.pacing == "slow")

            let fromImage = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a lighthouse by the sea",
                                                                                       inputs: [image.id])).decode(PlanResult.self)
            #expect(fromImage.creativeDirection.aspect == "9:16")
            #expect(fromImage.creativeDirection.timeOfDay == "day")
            #expect(fromImage.creativeDirection.durationS == 12)

            // Video outweighs image, whatever the order; words and options outweigh both.
            let both = try await alice.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a lighthouse by the sea at dawn",
                                                                                   inputs: [image.id, clip.id],
                                                                                   options: PlanOptions(durationS: 8))).decode(PlanResult.self)
            #expect(both.creativeDirection.aspect == "16:9")
            #expect(both.creativeDirection.timeOfDay == "dawn")
            #expect(both.creativeDirection.durationS == 8)

            let (bob, _) = try await server.creator()
            let stranger = try await bob.send(.POST, "/v1/parse", json: PlanRequest(prompt: "a fox", inputs: [clip.id]))
            #expect(stranger.status == 422)
            #expect(stranger.problem?.errors?.first?.field == "inputs[0]")
        }
    }
}
