import Foundation
import Synchronization

/// The encoder stopped reading (it failed; its own error says why).
struct BrokenPipe: Error {}

/// Where a producer writes frames; writing fails once ffmpeg has stopped reading or the task
/// was cancelled.
public final class FrameWriter: Sendable {
    private let handle: FileHandle
    private let state = Mutex<(cancelled: Bool, failure: (any Error)?)>((false, nil))

    init(handle: FileHandle) {
        self.handle = handle
    }

    var failure: (any Error)? { state.withLock { $0.failure } }

    func recordFailure(_ error: any Error) { state.withLock { $0.failure = error } }

    func cancel() { state.withLock { $0.cancelled = true } }

    public func write(_ frame: RGBImage) throws {
        if state.withLock({ $0.cancelled }) { throw CancellationError() }
        do {
            try frame.pixels.withUnsafeBytes { bytes in
                try handle.write(contentsOf: bytes)
            }
        } catch {
            throw BrokenPipe()
        }
    }
}
