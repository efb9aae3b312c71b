public import AtelierCore
public import AtelierStore
public import NIOCore
import Synchronization

/// Encoded `GET /v1/jobs/{id}` documents, kept while the store has not written since they were
/// read. A client polling a job costs a dictionary lookup instead of a database read and a JSON
/// encoding (about half of the server's time per request).
///
/// Staleness is impossible by construction rather than by invalidating the right entries: each
/// document is tagged with the engine's `WriteGeneration` as it was *before* the read, and only
/// a document whose tag equals the current count is served. Any write that changes a row —
/// of any job — makes every document a miss, so the cache pays off for reads between writes: clients polling
/// while the queue waits, dashboards, a finished batch being looked at. Documents of older
/// counts are dropped as soon as one of a newer count is kept, so memory holds at most
/// `capacity` documents of one count.
///
/// Only engines that see every write have a count: with PostgreSQL there is no cache.
public final class JobDocumentCache: Sendable {
    struct Document {
        let owner: CreatorID
        let body: ByteBuffer
    }

    private struct State {
        var generation: UInt64 = 0
        var documents: [JobID: Document] = [:]
    }

    private let writes: WriteGeneration
    private let state = Mutex(State())
    public let capacity: Int

    public init(writes: WriteGeneration, capacity: Int = 4_096) {
        self.writes = writes
        self.capacity = capacity
    }

    /// The count to tag a read with: take it before reading from the store.
    public var generation: UInt64 { writes.current }

    /// The cached document of the job, when it is current and `scope` may see it. Another
    /// creator's job is a miss, so the caller goes to the store and answers 404 as always.
    public func document(for id: JobID, scope: AccessScope) -> ByteBuffer? {
        let current = writes.current
        return state.withLock { state in
            guard state.generation == current, let document = state.documents[id] else { return nil }
            if case .creator(let caller) = scope, caller != document.owner { return nil }
            return document.body
        }
    }

    /// Keeps a document read at `generation` (taken before the read). A document read before
    /// a write that has since committed is not kept.
    public func keep(_ body: ByteBuffer, for id: JobID, owner: CreatorID, readAt generation: UInt64) {
        guard generation == writes.current else { return }
        state.withLock { state in
            if generation > state.generation {
                state.documents.removeAll(keepingCapacity: true)
                state.generation = generation
            }
            guard generation == state.generation else { return }
            if state.documents.count >= capacity, state.documents[id] == nil {
                state.documents.removeAll(keepingCapacity: true)
            }
            state.documents[id] = Document(owner: owner, body: body)
        }
    }

    /// Documents that could be served now, for tests.
    public var count: Int {
        let current = writes.current
        return state.withLock { $0.generation == current ? $0.documents.count : 0 }
    }
}
