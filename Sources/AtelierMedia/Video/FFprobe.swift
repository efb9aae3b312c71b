public import Foundation

/// What ffprobe reads from a media file: its container, duration and first video stream.
public struct MediaProbe: Sendable, Hashable {
    public var formatName: String
    public var duration: Double
    public var codec: String
    public var width: Int
    public var height: Int
    public var pixelFormat: String?
    public var frameRate: Double?
}

/// The ffprobe executable, found beside ffmpeg or on the search path.
public struct FFprobe: Sendable, Hashable {
    public var executable: URL

    public init(executable: URL) {
        self.executable = executable
    }

    /// ffprobe in ffmpeg's directory, else on the search path.
    public static func locate(besides ffmpeg: FFmpeg?, searchPath: String?) -> FFprobe? {
        if let ffmpeg {
            let sibling = ffmpeg.executable.deletingLastPathComponent().appendingPathComponent("ffprobe")
            if FileManager.default.isExecutableFile(atPath: sibling.path) { return FFprobe(executable: sibling) }
        }
        return FFmpeg.executable(named: "ffprobe", searchPath: searchPath).map(FFprobe.init(executable:))
    }

    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private struct Output: Decodable {
        struct Stream: Decodable {
            var codecType: String?
            var codecName: String?
            var width: Int?
            var height: Int?
            var pixFmt: String?
            var avgFrameRate: String?
        }
        struct Format: Decodable {
            var formatName: String?
            var duration: String?
        }
        var streams: [Stream]?
        var format: Format?
    }

    /// Reads the file's container, duration and video stream; a file that is not media throws.
    public func probe(_ file: URL) async throws -> MediaProbe {
        let arguments = ["-v", "error", "-show_entries",
                         "format=format_name,duration:stream=codec_type,codec_name,width,height,pix_fmt,avg_frame_rate",
                         "-of", "json", file.path]
        // Reading a child's output to its end blocks; that happens on a thread of its own, not
        // on one of the few threads every request shares.
        let (data, message, status): (Data, Data, Int32) = try await withCheckedThrowingContinuation { continuation in
            let executable = executable
            let thread = Thread {
                let process = Process()
                process.executableURL = executable
                process.arguments = arguments
                let output = Pipe()
                let errors = Pipe()
                process.standardOutput = output
                process.standardError = errors
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                // Read before waiting: the output may be larger than a pipe holds. At
                // `-v error` the error stream stays far smaller than one.
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let message = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (data, message, process.terminationStatus))
            }
            thread.start()
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard status == 0, let parsed = try? decoder.decode(Output.self, from: data),
              let video = parsed.streams?.first(where: { $0.codecType == "video" }),
              let codec = video.codecName, let width = video.width, let height = video.height else {
            throw Unreadable(description: "not a readable video or image: \(String(decoding: message.prefix(300), as: UTF8.self))")
        }
        let rate = video.avgFrameRate.flatMap { text -> Double? in
            let parts = text.split(separator: "/").compactMap { Double($0) }
            guard parts.count == 2, parts[1] > 0 else { return nil }
            return parts[0] / parts[1]
        }
        return MediaProbe(formatName: parsed.format?.formatName ?? "", duration: Double(parsed.format?.duration ?? "") ?? 0,
                          codec: codec, width: width, height: height, pixelFormat: video.pixFmt, frameRate: rate)
    }
}
