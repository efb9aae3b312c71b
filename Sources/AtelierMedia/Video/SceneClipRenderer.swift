public import Foundation

/// One scene of a film as the renderer draws it: what to show and how the camera moves.
public struct SceneShot: Sendable, Hashable {
    /// The words the renderer reads (the scene's description with its time of day and setting).
    public var prompt: String
    public var negativePrompt: String?
    public var camera: CameraMove
    public var seed: UInt32

    public init(prompt: String, negativePrompt: String? = nil, camera: CameraMove, seed: UInt32) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.camera = camera
        self.seed = seed
    }
}

/// Frame size and rate of a film and its clips.
public struct FilmFormat: Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var fps: Int

    public init(width: Int, height: Int, fps: Int) {
        self.width = width
        self.height = height
        self.fps = fps
    }
}

/// Draws a scene as an animated clip: the procedural picture on a plate larger than the frame,
/// redrawn a few times a second so clouds drift, water ripples and snow falls, and a camera
/// that pans, tilts or zooms across it at every frame. Frames are piped to ffmpeg.
public struct SceneClipRenderer: Sendable {
    private let renderer = ProceduralRenderer()

    public init() {}

    /// How often the plate is redrawn: about eight times a second.
    static func plateInterval(fps: Int) -> Int { max(1, fps / 8) }

    /// Seconds of the picture's animation loop.
    static let loopSeconds = 6.0

    /// Renders `frames` frames of `shot`, handing each to `deliver` in order.
    public func render(_ shot: SceneShot, format: FilmFormat, frames: Int, deliver: (RGBImage) throws -> Void) throws {
        let plateWidth = Int((Double(format.width) * CameraMove.margin / 2).rounded()) * 2
        let plateHeight = Int((Double(format.height) * CameraMove.margin / 2).rounded()) * 2
        let interval = Self.plateInterval(fps: format.fps)
        var plate = RGBImage(width: plateWidth, height: plateHeight)
        var frame = RGBImage(width: format.width, height: format.height)
        for index in 0..<frames {
            if index % interval == 0 {
                let seconds = Double(index) / Double(format.fps)
                plate = renderer.render(prompt: shot.prompt, negativePrompt: shot.negativePrompt, width: plateWidth,
                                        height: plateHeight, seed: shot.seed, time: seconds / Self.loopSeconds)
            }
            let progress = frames > 1 ? Double(index) / Double(frames - 1) : 0
            let crop = shot.camera.crop(plateWidth: plateWidth, plateHeight: plateHeight, frameWidth: format.width,
                                        frameHeight: format.height, progress: progress)
            FrameResampler.resample(plate, x: crop.x, y: crop.y, width: crop.width, height: crop.height, into: &frame)
            try deliver(frame)
        }
    }

    /// Renders `seconds` of `shot` into an intermediate H.264 clip at `url` (high quality, for composing).
    public func renderClip(_ shot: SceneShot, format: FilmFormat, seconds: Double, to url: URL, ffmpeg: FFmpeg,
                           progress: @escaping @Sendable (Double) -> Void = { _ in }) async throws {
        let frames = max(1, Int((seconds * Double(format.fps)).rounded()))
        try await ffmpeg.run([
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(format.width)x\(format.height)", "-r", "\(format.fps)",
            "-i", "pipe:0", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
            "-threads", "1", url.path,
        ]) { writer in
            var written = 0
            try self.render(shot, format: format, frames: frames) { frame in
                try writer.write(frame)
                written += 1
                if written % 12 == 0 { progress(Double(written) / Double(frames)) }
            }
        }
    }
}
