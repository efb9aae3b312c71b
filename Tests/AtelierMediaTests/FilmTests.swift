import AtelierCore
import AtelierMedia
import Foundation
import Testing

@Suite("Scene clips and film composition with ffmpeg")
struct FilmTests {
    let ffmpeg: FFmpeg
    let ffprobe: FFprobe

    init() throws {
        let path = ProcessInfo.processInfo.environment["PATH"]
        ffmpeg = try #require(FFmpeg.locate(searchPath: path))
        ffprobe = try #require(FFprobe.locate(besides: ffmpeg, searchPath: path))
    }

    func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-film-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("the camera moves across the plate the way its name says")
    func cameraMoves() throws {
        let format = FilmFormat(width: 160, height: 96, fps: 8)
        func frames(_ camera: CameraMove) throws -> [RGBImage] {
            var result: [RGBImage] = []
            try SceneClipRenderer().render(SceneShot(prompt: "a lighthouse on the coast with birds", camera: camera, seed: 3),
                                           format: format, frames: 8) { result.append($0) }
            return result
        }
        let still = try frames(.still)
        #expect(still.count == 8)
        #expect(still[0].width == 160 && still[0].height == 96)
        let pan = try frames(.panRight)
        #expect(pan.first != pan.last)
        // Panning right, the picture slides left: frame 3 matches frame 4 moved right by a few
        // pixels better than unmoved.
        func difference(_ a: RGBImage, _ b: RGBImage, shift: Int) -> Int {
            var total = 0
            for y in stride(from: 0, to: a.height, by: 2) {
                for x in 8..<(a.width - 8) {
                    total += abs(Int(a.pixels[(y * a.width + x) * 3 + 2]) - Int(b.pixels[(y * b.width + x + shift) * 3 + 2]))
                }
            }
            return total
        }
        let shifts = (0...6).map { difference(pan[4], pan[3], shift: $0) }
        #expect(shifts.firstIndex(of: shifts.min()!)! > 0, "\(shifts)")
        let zoom = try frames(.zoomIn)
        #expect(zoom.first != zoom.last)
        // A quarter of the way in, every move has put the camera somewhere else.
        let moves = Set(try CameraMove.allCases.map { try frames($0)[2] })
        #expect(moves.count == CameraMove.allCases.count)
    }

    @Test("four scenes become one MP4 of the planned length with a poster and a GIF preview, in one ffmpeg pass")
    func composesMP4() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let format = FilmFormat(width: 320, height: 180, fps: 12)
        let plan: [(String, CameraMove, Double, String)] = [
            ("a harbour at dawn with boats", .panRight, 1.5, "fade"), ("boats on the sea at noon", .zoomIn, 1.0, "wipeleft"),
            ("gulls over the waves at dusk", .tiltUp, 1.25, "none"), ("a lighthouse at night", .still, 1.0, "none"),
        ]
        let timing = plan.map { (seconds: $0.2, transition: $0.3) }
        var cuts: [FilmComposer.Cut] = []
        for (index, scene) in plan.enumerated() {
            let clip = directory.appendingPathComponent("scene-\(index).mp4")
            let length = scene.2 + FilmComposer.overlap(after: index, of: timing, fps: format.fps)
            try await SceneClipRenderer().renderClip(SceneShot(prompt: scene.0, camera: scene.1, seed: 7), format: format,
                                                     seconds: length, to: clip, ffmpeg: ffmpeg)
            let probe = try await ffprobe.probe(clip)
            #expect(abs(probe.duration - length) < 0.1)
            cuts.append(FilmComposer.Cut(clip: clip, seconds: scene.2, transition: scene.3))
        }
        let outputs = try await FilmComposer(ffmpeg: ffmpeg).compose(cuts, format: format, container: .mp4, preview: true,
                                                                    into: directory)
        let film = try await ffprobe.probe(outputs.film)
        #expect(film.codec == "h264")
        #expect(film.pixelFormat == "yuv420p")
        #expect(film.width == 320 && film.height == 180)
        #expect(abs(film.duration - 4.75) <= 4.75 * 0.05, "duration \(film.duration)")
        #expect(film.formatName.contains("mp4"))
        // +faststart: the index (moov) comes before the media data (mdat).
        let head = try Data(contentsOf: outputs.film).prefix(4096)
        let moov = head.range(of: Data("moov".utf8)), mdat = head.range(of: Data("mdat".utf8))
        #expect(moov != nil)
        if let moov, let mdat { #expect(moov.lowerBound < mdat.lowerBound) }
        let poster = try await ffprobe.probe(outputs.poster)
        #expect(poster.codec == "png" && poster.width == 320 && poster.height == 180)
        let preview = try await ffprobe.probe(try #require(outputs.preview))
        #expect(preview.codec == "gif")
        #expect(preview.width == FilmComposer.previewWidth)
    }

    /// Mean brightness of every frame of a film, from ffmpeg's own decode.
    func brightness(of film: URL, in directory: URL) async throws -> [Double] {
        let raw = directory.appendingPathComponent("frames-\(UUID().uuidString).gray")
        try await ffmpeg.run(["-i", film.path, "-vf", "scale=32:18", "-f", "rawvideo", "-pix_fmt", "gray", raw.path])
        let bytes = [UInt8](try Data(contentsOf: raw))
        return stride(from: 0, to: bytes.count, by: 32 * 18).map { start in
            Double(bytes[start..<min(bytes.count, start + 32 * 18)].reduce(0) { $0 + Int($1) }) / Double(32 * 18)
        }
    }

    @Test("a dissolve blends the last frames of one scene into the first of the next; a cut goes straight across")
    func transitionsBlend() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let format = FilmFormat(width: 160, height: 96, fps: 10)
        var means: [String: [Double]] = [:]
        for transition in ["dissolve", "none"] {
            let timing = [(seconds: 2.0, transition: transition), (seconds: 2.0, transition: "none")]
            var cuts: [FilmComposer.Cut] = []
            for (index, prompt) in ["a snowy meadow on a sunny day", "a dark sea at midnight"].enumerated() {
                let clip = directory.appendingPathComponent("\(transition)-\(index).mp4")
                try await SceneClipRenderer().renderClip(SceneShot(prompt: prompt, camera: .still, seed: 1), format: format,
                                                         seconds: 2 + FilmComposer.overlap(after: index, of: timing, fps: 10),
                                                         to: clip, ffmpeg: ffmpeg)
                cuts.append(FilmComposer.Cut(clip: clip, seconds: 2, transition: timing[index].transition))
            }
            let scene = directory.appendingPathComponent(transition, isDirectory: true)
            try FileManager.default.createDirectory(at: scene, withIntermediateDirectories: true)
            let outputs = try await FilmComposer(ffmpeg: ffmpeg).compose(cuts, format: format, container: .mp4, preview: false,
                                                                        into: scene)
            means[transition] = try await brightness(of: outputs.film, in: directory)
        }
        let dissolve = try #require(means["dissolve"]), cut = try #require(means["none"])
        #expect(dissolve.count == 40 && cut.count == 40)
        let bright = dissolve[5], dark = dissolve[35]
        #expect(bright > dark + 60, "\(bright) \(dark)")
        // Halfway through the half-second dissolve (frames 20–24) the picture is a mix of both.
        let middle = dissolve[22]
        #expect(middle > dark + 0.2 * (bright - dark) && middle < bright - 0.2 * (bright - dark), "\(dissolve)")
        // The cut has no frame between the two scenes.
        #expect(cut.allSatisfy { abs($0 - bright) < 0.15 * (bright - dark) || abs($0 - dark) < 0.15 * (bright - dark) }, "\(cut)")
        #expect(cut[19] > bright - 0.15 * (bright - dark) && cut[20] < dark + 0.15 * (bright - dark))
    }

    @Test("WebM films are VP9")
    func composesWebM() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let format = FilmFormat(width: 256, height: 144, fps: 10)
        var cuts: [FilmComposer.Cut] = []
        for index in 0..<2 {
            let clip = directory.appendingPathComponent("scene-\(index).mp4")
            let timing = [(seconds: 1.0, transition: "dissolve"), (seconds: 1.0, transition: "none")]
            try await SceneClipRenderer().renderClip(SceneShot(prompt: "a forest in fog", camera: .panLeft, seed: UInt32(index)),
                                                     format: format, seconds: 1 + FilmComposer.overlap(after: index, of: timing, fps: 10),
                                                     to: clip, ffmpeg: ffmpeg)
            cuts.append(FilmComposer.Cut(clip: clip, seconds: 1, transition: timing[index].transition))
        }
        let outputs = try await FilmComposer(ffmpeg: ffmpeg).compose(cuts, format: format, container: .webm, preview: false,
                                                                    into: directory)
        let film = try await ffprobe.probe(outputs.film)
        #expect(film.codec == "vp9")
        #expect(film.formatName.contains("webm"))
        #expect(abs(film.duration - 2) <= 2 * 0.05 + 1e-6, "duration \(film.duration)")
        #expect(outputs.preview == nil)
        #expect(FileManager.default.fileExists(atPath: outputs.poster.path))
    }

    @Test("an encoder that fails stops the frame producer and reports ffmpeg's error")
    func encoderFailure() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: FFmpeg.Failure.self) {
            try await SceneClipRenderer().renderClip(SceneShot(prompt: "a fox", camera: .still, seed: 1),
                                                     format: FilmFormat(width: 64, height: 64, fps: 10), seconds: 30,
                                                     to: directory.appendingPathComponent("missing-dir/clip.mp4"), ffmpeg: ffmpeg)
        }
    }

    @Test("cancelling a running ffmpeg stops it, fed by us or not")
    func cancellationStopsFFmpeg() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ffmpeg = ffmpeg
        // Ten minutes of video each: far more than the test waits for.
        let plain = Task {
            try await ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=600", "-c:v", "libx264",
                                  directory.appendingPathComponent("plain.mp4").path])
        }
        let fed = Task {
            try await SceneClipRenderer().renderClip(SceneShot(prompt: "a fox", camera: .zoomIn, seed: 1),
                                                     format: FilmFormat(width: 320, height: 180, fps: 25), seconds: 600,
                                                     to: directory.appendingPathComponent("fed.mp4"), ffmpeg: ffmpeg)
        }
        try await Task.sleep(for: .milliseconds(500))
        plain.cancel()
        fed.cancel()
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await plain.value }
        let plainStopped = ContinuousClock.now - started
        await #expect(throws: CancellationError.self) { try await fed.value }
        let fedStopped = ContinuousClock.now - started
        #expect(plainStopped < .seconds(60) && fedStopped < .seconds(60), "plain \(plainStopped), fed \(fedStopped)")
    }

    @Test("transitions overlap by half a second at most, 40 % of the shorter scene, in whole frames; a cut not at all")
    func overlaps() {
        let cuts = [(seconds: 3.0, transition: "fade"), (seconds: 1.0, transition: "none"), (seconds: 2.0, transition: "dissolve"),
                    (seconds: 2.0, transition: "none")]
        #expect(FilmComposer.overlap(after: 0, of: cuts, fps: 24) == 9.0 / 24)
        #expect(FilmComposer.overlap(after: 1, of: cuts, fps: 24) == 0)
        #expect(FilmComposer.overlap(after: 2, of: cuts, fps: 24) == 0.5)
        #expect(FilmComposer.overlap(after: 3, of: cuts, fps: 24) == 0)
    }
}
