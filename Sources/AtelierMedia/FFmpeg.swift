public import Foundation
import Synchronization

/// The ffmpeg executable and how to run it. Located once at start-up and passed down.
public struct FFmpeg: Sendable, Hashable {
    public var executable: URL

    public init(executable: URL) {
        self.executable = executable
    }

    /// `ATELIER_FFMPEG` when set (nil if it is not an executable), else `ffmpeg` on `PATH`.
    public static func locate(environment: [String: String]) -> FFmpeg? {
        if let configured = environment["ATELIER_FFMPEG"], !configured.isEmpty {
            return FileManager.default.isExecutableFile(atPath: configured) ? FFmpeg(executable: URL(fileURLWithPath: configured)) : nil
        }
        return locate(searchPath: environment["PATH"])
    }

    /// What to tell an operator whose server has no ffmpeg.
    public static let missingAdvice = "install ffmpeg (apt-get install -y ffmpeg) or point ATELIER_FFMPEG at it, then restart"

    /// Finds `ffmpeg` on the given search path (the `PATH` variable's value).
    public static func locate(searchPath: String?) -> FFmpeg? {
        executable(named: "ffmpeg", searchPath: searchPath).map(FFmpeg.init(executable:))
    }

    /// The first executable called `name` in the directories of `searchPath` (a `PATH` value).
    static func executable(named name: String, searchPath: String?) -> URL? {
        for directory in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var status: Int32
        public var message: String
        public var description: String { "ffmpeg exited with status \(status): \(message)" }
    }

    /// Runs ffmpeg with `arguments` (no shell; quiet unless it fails) and waits for it.
    /// Cancelling the task stops ffmpeg.
    public func run(_ arguments: [String]) async throws {
        try await launch(["-nostdin"] + arguments, feeding: nil)
    }

    /// Runs ffmpeg with `arguments` (which read `-i pipe:0`); `produce` is called on a dedicated
    /// thread with a writer for the frames and returns when it has written the last one.
    /// Frames go straight from memory to the encoder, with no picture written to disk, and a
    /// full pipe blocks that thread and not the task pool. Cancelling the task stops the
    /// producer at its next frame and ffmpeg with it.
    public func run(_ arguments: [String], feeding produce: @escaping @Sendable (FrameWriter) throws -> Void) async throws {
        try await launch(arguments, feeding: produce)
    }

    private func launch(_ arguments: [String], feeding produce: (@Sendable (FrameWriter) throws -> Void)?) async throws {
        // A write to an encoder that has died must fail, not kill the server with SIGPIPE.
        _ = Self.ignoreBrokenPipes
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-hide_banner", "-loglevel", "error", "-y"] + arguments
        let errors = Pipe()
        let input = produce.map { _ in Pipe() }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = input ?? FileHandle.nullDevice
        let writer = input.map { FrameWriter(handle: $0.fileHandleForWriting) }
        let running = RunningProcess()
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                    return
                }
                running.started(process.processIdentifier, stopOnCancel: produce == nil)
                if let produce, let writer, let input {
                    let thread = Thread {
                        do {
                            try produce(writer)
                        } catch {
                            writer.recordFailure(error)
                        }
                        try? input.fileHandleForWriting.close()
                    }
                    thread.stackSize = 4 << 20
                    thread.start()
                }
            }
        } onCancel: {
            writer?.cancel()
            running.cancel()
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile().prefix(2_000), as: UTF8.self)
        try Task.checkCancellation()
        if let failure = writer?.failure, !(failure is BrokenPipe) { throw failure }
        guard status == 0 else { throw Failure(status: status, message: message) }
    }

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()
}

/// The child's pid once started, so a cancellation arriving from another thread can stop it. It is
/// killed outright (its output is abandoned anyway): a child may inherit SIGTERM blocked.
private final class RunningProcess: Sendable {
    private let state = Mutex<(pid: Int32?, stopOnCancel: Bool, cancelled: Bool)>((nil, false, false))

    func started(_ pid: Int32, stopOnCancel: Bool) {
        let stopNow = state.withLock { state -> Bool in
            state.pid = pid
            state.stopOnCancel = stopOnCancel
            return state.cancelled && stopOnCancel
        }
        if stopNow { kill(pid, SIGKILL) }
    }

    func cancel() {
        let pid = state.withLock { state -> Int32? in
            state.cancelled = true
            return state.stopOnCancel ? state.pid : nil
        }
        if let pid { kill(pid, SIGKILL) }
    }
}
