public import Foundation

/// Encodes an animation loop as GIF with ffmpeg, which builds one optimised palette for the
/// whole loop (palettegen) and maps every frame onto it (paletteuse), looping forever. Frames
/// are piped to ffmpeg as they are drawn; only the finished GIF touches the disk.
public struct GIFEncoder: Sendable {
    public let ffmpeg: FFmpeg
    /// A private scratch directory; file names in it are generated, never taken from input.
    public let scratch: URL

    public init(ffmpeg: FFmpeg, scratch: URL = FileManager.default.temporaryDirectory) {
        self.ffmpeg = ffmpeg
        self.scratch = scratch
    }

    /// Encodes `count` frames of `width`×`height`, each drawn by `frame(index)` when ffmpeg is
    /// ready for it (on a thread of its own).
    public func encode(width: Int, height: Int, count: Int, fps: Int,
                       frame: @escaping @Sendable (Int) throws -> RGBImage) async throws -> Data {
        let directory = scratch.appendingPathComponent("atelier-gif-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("loop.gif")
        try await ffmpeg.run([
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", "\(fps)", "-i", "pipe:0",
            "-filter_complex", "[0:v]split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a",
            "-loop", "0", "-f", "gif", output.path,
        ]) { writer in
            for index in 0..<count { try writer.write(try frame(index)) }
        }
        return try Data(contentsOf: output)
    }
}
