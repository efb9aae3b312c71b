import Synchronization

/// Counts an engine's committed writes, so a cache of what was read can tell whether it is
/// still current without asking the database.
///
/// The rule that keeps such a cache honest: read `current` *before* reading from the database,
/// and keep what was read only as long as `current` still has that value. The engine advances
/// the count *after* each write commits; a read that missed a commit therefore began before
/// that commit's advance and is tagged with an older count, so it is never served after it.
///
/// Only an engine that sees every write can offer one: the embedded SQLite engine (this process
/// is the only writer), not PostgreSQL (other nodes write too).
public final class WriteGeneration: Sendable {
    private let count = Atomic<UInt64>(0)

    public init() {}

    /// The number of writes committed so far.
    public var current: UInt64 { count.load(ordering: .sequentiallyConsistent) }

    /// Called by the engine after a write transaction that changed rows has committed (and,
    /// to be safe, after one that failed).
    public func advance() {
        count.add(1, ordering: .sequentiallyConsistent)
    }
}
