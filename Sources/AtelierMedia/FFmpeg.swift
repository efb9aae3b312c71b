public import Foundation

/// The ffmpeg executable and how to run it. Located once at start-up and passed down.
public struct FFmpeg: Sendable, Hashable {
    public var executable: URL

    public init(executable: URL) {
        self.executable = executable
    }

    /// Finds `ffmpeg` on the given search path (the `PATH` variable's value).
    public static func locate(searchPath: String?) -> FFmpeg? {
        for directory in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("ffmpeg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return FFmpeg(executable: candidate) }
        }
        return nil
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var status: Int32
        public var message: String
        public var description: String { "ffmpeg exited with status \(status): \(message)" }
    }

    /// Runs ffmpeg with `arguments` (no shell; quiet unless it fails) and waits for it.
    public func run(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else {
            let output = errors.fileHandleForReading.readDataToEndOfFile()
            throw Failure(status: status, message: String(decoding: output.prefix(2_000), as: UTF8.self))
        }
    }
}
