public import Foundation

/// Encodes an animation loop as GIF with ffmpeg, which builds one optimised palette for the
/// whole loop (palettegen) and maps every frame onto it (paletteuse), looping forever.
public struct GIFEncoder: Sendable {
    public let ffmpeg: FFmpeg
    /// A private scratch directory; file names in it are generated, never taken from input.
    public let scratch: URL

    public init(ffmpeg: FFmpeg, scratch: URL = FileManager.default.temporaryDirectory) {
        self.ffmpeg = ffmpeg
        self.scratch = scratch
    }

    public func encode(frames: [RGBImage], fps: Int) async throws -> Data {
        guard let first = frames.first else { return Data() }
        let directory = scratch.appendingPathComponent("atelier-gif-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let raw = directory.appendingPathComponent("frames.rgb")
        let output = directory.appendingPathComponent("loop.gif")
        var bytes = Data(capacity: first.pixels.count * frames.count)
        for frame in frames { bytes.append(contentsOf: frame.pixels) }
        try bytes.write(to: raw)
        try await ffmpeg.run([
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(first.width)x\(first.height)", "-r", "\(fps)",
            "-i", raw.path,
            "-filter_complex", "[0:v]split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a",
            "-loop", "0", "-f", "gif", output.path,
        ])
        return try Data(contentsOf: output)
    }
}
