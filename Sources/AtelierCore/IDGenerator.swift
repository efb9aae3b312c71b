import Synchronization

/// Generates strictly increasing UUIDv7 identifiers from an injected clock and random source.
///
/// Within one millisecond the 12-bit sequence counts up; if it overflows, the generator borrows
/// the next millisecond rather than break ordering.
public final class IDGenerator: Sendable {
    private struct State {
        var lastMilliseconds: UInt64 = 0
        var sequence: UInt16 = 0
        var random: any RandomNumberGenerator & Sendable
    }

    private let clock: any WallClock
    private let state: Mutex<State>

    public init(clock: any WallClock, random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        self.clock = clock
        self.state = Mutex(State(random: random))
    }

    public func next() -> UUIDv7 {
        let now = UInt64(max(0, (clock.now.timeIntervalSince1970 * 1000).rounded(.down)))
        return state.withLock { state in
            if now > state.lastMilliseconds {
                state.lastMilliseconds = now
                state.sequence = 0
            } else if state.sequence == 0x0FFF {
                state.lastMilliseconds += 1
                state.sequence = 0
            } else {
                state.sequence += 1
            }
            let random = state.random.next()
            return UUIDv7(milliseconds: state.lastMilliseconds, sequence: state.sequence, random: random)
        }
    }

    public func jobID() -> JobID { JobID(next()) }
    public func creatorID() -> CreatorID { CreatorID(next()) }
    public func artifactID() -> ArtifactID { ArtifactID(next()) }
    public func uploadID() -> UploadID { UploadID(next()) }
    public func workerID() -> WorkerID { WorkerID(next()) }
}
