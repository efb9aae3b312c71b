public import AtelierCore
public import Foundation
import GRDB

extension SQLiteJobStore {
    public func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueOutcome] {
        guard !jobs.isEmpty else { return [] }
        for job in jobs { try StoreArguments.check(job) }
        let quotas = defaultQuotas
        let outcomes = try await write { db in try Self.enqueue(db, jobs, now: now, quotas: quotas) }
        let pools = Set(outcomes.compactMap { outcome -> PoolName? in
            if case .created(let job) = outcome { return job.pool }
            return nil
        })
        for pool in pools { workSignal.ring(pool) }
        return outcomes
    }

    private static func enqueue(_ db: Database, _ jobs: [NewJob], now: Date, quotas: Quotas) throws -> [EnqueueOutcome] {
        var batch = EnqueueBatch(now: StoredRows.micros(now), capacity: jobs.count)
        var knownCreators: Set<CreatorID> = []
        var readyOrder: [QueueKey] = []
        var readyCounts: [QueueKey: Int] = [:]

        for new in jobs {
            if !knownCreators.contains(new.creatorID) {
                guard try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM creators WHERE id = ?)"),
                    arguments: [new.creatorID.rawValue]) == true
                else {
                    throw StoreError(.unknownCreator, "no creator has id \(new.creatorID)")
                }
                knownCreators.insert(new.creatorID)
            }
            if batch.answersWithReusedParent(new) { continue }
            if let parent = batch.parentToLookUp(new) {
                // A parent must belong to the same creator: ids of other tenants do not exist here.
                guard try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = ? AND creator_id = ?)"),
                    arguments: [parent.rawValue, new.creatorID.rawValue]) == true
                else {
                    throw StoreError(.unknownParent, "no job \(parent) exists for this creator")
                }
            }
            if let key = new.idempotencyKey {
                if let existing = try Row.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT \(StoredRows.jobColumns), request_fingerprint FROM jobs
                        WHERE creator_id = ? AND idempotency_key = ?
                        """),
                    arguments: [new.creatorID.rawValue, key]
                ) {
                    try batch.reuse(StoredRows.job(existing).job, fingerprint: existing[StoredRows.jobColumnCount],
                                    for: new, key: key)
                    continue
                }
                if try batch.reusesKeyFromEarlierInBatch(new, key: key) { continue }
            }
            batch.insert(new)
            // A parent waiting for its children is not ready until the last of them succeeds.
            guard !new.waitsForChildren else { continue }
            let queue = QueueKey(pool: new.pool, creator: new.creatorID)
            if readyCounts[queue] == nil { readyOrder.append(queue) }
            readyCounts[queue, default: 0] += 1
        }
        // The reservation first: a creator short of credits queues nothing.
        let nowMicros = batch.now
        try reserve(db, for: batch.inserted, now: nowMicros)
        // Bound through SQLite's C API: this statement runs for every job queued.
        let insertSQL = """
            INSERT INTO jobs (id, creator_id, kind, pool, model, prompt, negative_prompt, width, height, seed,
                format, frames, fps, steps, priority, cost, state, max_attempts, created_at, available_at,
                parent_id, idempotency_key, request_fingerprint, scenes, transition, preview, scene_index, started_at, plan)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?25, ?17, ?18, ?18,
                ?19, ?20, ?21, ?22, ?23, ?24, ?26, ?27, ?28)
            """
        // Looked up once: GRDB's cache lookup scans the SQL text each time.
        let prepared = try db.cachedStatement(sql: insertSQL)
        for new in batch.inserted {
            let insert = SQLiteRawStatement(prepared)
            insert.bind(1, new.id.rawValue)
            insert.bind(2, new.creatorID.rawValue)
            insert.bind(3, new.kind.rawValue)
            insert.bind(4, new.pool.rawValue)
            insert.bind(5, new.model.rawValue)
            insert.bind(6, new.prompt)
            insert.bind(7, new.negativePrompt)
            insert.bind(8, new.params.width)
            insert.bind(9, new.params.height)
            insert.bind(10, Int64(new.params.seed))
            insert.bind(11, new.params.format.rawValue)
            insert.bind(12, new.params.frames)
            insert.bind(13, new.params.fps)
            insert.bind(14, new.params.steps)
            insert.bind(15, new.priority)
            insert.bind(16, new.cost)
            insert.bind(17, new.maxAttempts)
            insert.bind(18, nowMicros)
            insert.bind(19, new.parentID?.rawValue)
            insert.bind(20, new.idempotencyKey)
            insert.bind(21, new.requestFingerprint)
            insert.bind(22, new.params.scenes)
            insert.bind(23, new.params.transition)
            insert.bind(24, new.params.preview ? 1 : 0)
            insert.bind(25, new.waitsForChildren ? "blocked" : "queued")
            insert.bind(26, new.params.scene.map { Int64($0) })
            insert.bind(27, new.waitsForChildren ? nowMicros : Int64?.none)
            insert.bind(28, new.params.plan?.canonicalText)
            try insert.run()
        }
        for queue in readyOrder {
            try SQLiteFairQueue.markReady(db, pool: queue.pool, creator: queue.creator, count: readyCounts[queue]!)
        }
        try checkQuotas(db, of: Set(batch.inserted.map(\.creatorID)), defaults: quotas, now: now)
        return batch.outcomes
    }

}
