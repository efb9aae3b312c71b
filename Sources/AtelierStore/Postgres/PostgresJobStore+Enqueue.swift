public import AtelierCore
public import Foundation
import Logging
import PostgresNIO

extension PostgresJobStore {
    public func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueOutcome] {
        guard !jobs.isEmpty else { return [] }
        for job in jobs { try StoreArguments.check(job) }
        let logger = self.logger
        let outcomes: [EnqueueOutcome]
        do {
            outcomes = try await transaction { connection in
                try await Self.enqueue(connection, jobs, now: now, logger: logger)
            }
        } catch where Self.isUniqueViolation(error) {
            // Another transaction committed the same idempotency key while this one ran; now
            // that it is visible, the second run answers with the existing job (or the conflict).
            outcomes = try await transaction { connection in
                try await Self.enqueue(connection, jobs, now: now, logger: logger)
            }
        }
        let pools = Set(outcomes.compactMap { outcome -> PoolName? in
            if case .created(let job) = outcome { return job.pool }
            return nil
        })
        for pool in pools { notifier.announce(pool) }
        return outcomes
    }

    private static func enqueue(_ connection: PostgresConnection, _ jobs: [NewJob], now: Date,
                                logger: Logger) async throws -> [EnqueueOutcome] {
        let nowMicros = StoredRows.micros(now)
        var outcomes: [EnqueueOutcome] = []
        outcomes.reserveCapacity(jobs.count)
        var inserted: [NewJob] = []
        inserted.reserveCapacity(jobs.count)
        // Idempotency keys first used earlier in this same batch, per creator.
        var batchKeys: [QueueKeyedIdempotency: NewJob] = [:]
        var readyOrder: [QueueKey] = []
        var readyCounts: [QueueKey: Int] = [:]

        let creators = Array(Set(jobs.map(\.creatorID.rawValue)))
        let known = try await connection.query(
            "SELECT id FROM creators WHERE id = ANY(\(creators))", logger: logger
        ).collect().compactMap { PostgresColumns($0).text(0) }
        if let unknown = creators.first(where: { !known.contains($0) }) {
            throw StoreError(.unknownCreator, "no creator has id \(unknown)")
        }
        for new in jobs {
            if let parent = new.parentID {
                // A parent must belong to the same creator: ids of other tenants do not exist here.
                let found = try await connection.query("""
                    SELECT 1 FROM jobs WHERE id = \(parent.rawValue) AND creator_id = \(new.creatorID.rawValue)
                    """, logger: logger).collect()
                guard !found.isEmpty else {
                    throw StoreError(.unknownParent, "no job \(parent) exists for this creator")
                }
            }
            if let key = new.idempotencyKey {
                let existing = try await connection.query("""
                    SELECT \(unescaped: StoredRows.jobColumns), request_fingerprint FROM jobs
                    WHERE creator_id = \(new.creatorID.rawValue) AND idempotency_key = \(key)
                    """, logger: logger).collect().first
                if let existing {
                    let columns = PostgresColumns(existing)
                    let job = StoredRows.job(columns).job
                    try StoreArguments.checkReuse(of: key, fingerprint: columns.text(32), by: new, original: job.id)
                    outcomes.append(.existing(job))
                    continue
                }
                let scoped = QueueKeyedIdempotency(creator: new.creatorID, key: key)
                if let earlier = batchKeys[scoped] {
                    try StoreArguments.checkReuse(of: key, fingerprint: earlier.requestFingerprint, by: new, original: earlier.id)
                    outcomes.append(.existing(Job(queued: earlier, at: StoredRows.date(nowMicros))))
                    continue
                }
                batchKeys[scoped] = new
            }
            inserted.append(new)
            outcomes.append(.created(Job(queued: new, at: StoredRows.date(nowMicros))))
            let queue = QueueKey(pool: new.pool, creator: new.creatorID)
            if readyCounts[queue] == nil { readyOrder.append(queue) }
            readyCounts[queue, default: 0] += 1
        }
        if !inserted.isEmpty {
            // One statement for the whole batch: the rows travel as one JSON array.
            let rows = try String(decoding: JSONEncoder().encode(inserted.map { InsertedJob($0, at: nowMicros) }),
                                  as: UTF8.self)
            try await connection.query("""
                INSERT INTO jobs (id, creator_id, kind, pool, model, prompt, negative_prompt, width, height, seed,
                    format, frames, fps, steps, priority, cost, state, max_attempts, created_at, available_at,
                    parent_id, idempotency_key, request_fingerprint)
                SELECT id, creator_id, kind, pool, model, prompt, negative_prompt, width, height, seed,
                    format, frames, fps, steps, priority, cost, 'queued', max_attempts, created_at, created_at,
                    parent_id, idempotency_key, request_fingerprint
                FROM jsonb_to_recordset(\(rows)::jsonb) AS x(id text, creator_id text, kind text, pool text, model text,
                    prompt text, negative_prompt text, width bigint, height bigint, seed bigint, format text,
                    frames bigint, fps bigint, steps bigint, priority bigint, cost bigint, max_attempts bigint,
                    created_at bigint, parent_id text, idempotency_key text, request_fingerprint text)
                """, logger: logger)
        }
        try await PostgresFairQueue.lock(connection, readyOrder, logger: logger)
        for queue in readyOrder {
            try await PostgresFairQueue.markReady(connection, pool: queue.pool, creator: queue.creator,
                                                  count: readyCounts[queue]!, logger: logger)
        }
        return outcomes
    }
}

/// A queued job as one element of the JSON array `enqueue` inserts from.
private struct InsertedJob: Encodable {
    var id: String
    var creator_id: String
    var kind: String
    var pool: String
    var model: String
    var prompt: String
    var negative_prompt: String?
    var width: Int
    var height: Int
    var seed: Int64
    var format: String
    var frames: Int
    var fps: Int
    var steps: Int
    var priority: Int
    var cost: Int
    var max_attempts: Int
    var created_at: Int64
    var parent_id: String?
    var idempotency_key: String?
    var request_fingerprint: String?

    init(_ new: NewJob, at micros: Int64) {
        id = new.id.rawValue
        creator_id = new.creatorID.rawValue
        kind = new.kind.rawValue
        pool = new.pool.rawValue
        model = new.model.rawValue
        prompt = new.prompt
        negative_prompt = new.negativePrompt
        width = new.params.width
        height = new.params.height
        seed = Int64(new.params.seed)
        format = new.params.format.rawValue
        frames = new.params.frames
        fps = new.params.fps
        steps = new.params.steps
        priority = new.priority
        cost = new.cost
        max_attempts = new.maxAttempts
        created_at = micros
        parent_id = new.parentID?.rawValue
        idempotency_key = new.idempotencyKey
        request_fingerprint = new.requestFingerprint
    }
}
