public import AtelierCore
import AtelierScheduler
public import Foundation
import GRDB

/// What happens to an attempt after its lease: heartbeats, completion, failure, hand-back, cancellation.
extension SQLiteJobStore {
    public func heartbeat(_ token: LeaseToken, progress: Double?, leaseDuration: TimeInterval, now: Date) async throws
        -> HeartbeatOutcome
    {
        let expiry = now.addingTimeInterval(leaseDuration)
        let clamped = progress.map { min(1, max(0, $0.isFinite ? $0 : 0)) }
        return try await write { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    UPDATE jobs SET lease_expires_at = ?, progress = COALESCE(?, progress)
                    WHERE id = ? AND state = 'running' AND lease_fence = ?
                    RETURNING cancel_requested, parent_id
                    """),
                arguments: [StoredRows.micros(expiry), clamped, token.jobID.rawValue, token.fence]
            ) else { return .leaseLost }
            let cancelRequested: Bool = row[0]
            if clamped != nil, let parent: String = row[1] { try Self.followChildrenProgress(db, parent: parent) }
            return .renewed(until: StoredRows.date(StoredRows.micros(expiry)), isCancelRequested: cancelRequested)
        }
    }

    public func complete(_ completions: [Completion], now: Date) async throws -> [CompletionOutcome] {
        guard !completions.isEmpty else { return [] }
        let pairs = try Self.completionPairs(completions)
        let (outcomes, ready) = try await write { db in try Self.complete(db, completions, pairs: pairs, now: now) }
        for pool in ready { workSignal.ring(pool) }
        return outcomes
    }

    /// Checks a completion batch and encodes its (id, fence) pairs for `json_each`.
    static func completionPairs(_ completions: [Completion]) throws -> String {
        for completion in completions {
            for artifact in completion.artifacts where artifact.jobID != completion.token.jobID {
                throw StoreError(.invalidArgument, "artifact \(artifact.id) belongs to another job")
            }
        }
        return "[" + completions.map { "[\"\($0.token.jobID.rawValue)\",\($0.token.fence)]" }.joined(separator: ",") + "]"
    }

    /// Completes a batch in one statement: each (id, fence) pair must still hold the job's
    /// current lease; RETURNING names the jobs that did, and only those get their artifacts.
    /// A completed scene job may release its film: the pools where that happened come back.
    static func complete(_ db: Database, _ completions: [Completion], pairs: String, now: Date) throws
        -> (outcomes: [CompletionOutcome], ready: Set<PoolName>)
    {
        var completed: Set<String> = []
        var parents: [String] = []
        var settlements: [CreditSettlement] = []
        // A top-level job's reservation is captured in the same statement (CreditRules:
        // success captures the cost); scene jobs draw on their film's and charge nothing.
        // Read through SQLite's C API: one row per completed job passes through here.
        let update = SQLiteRawStatement(try db.cachedStatement(sql: """
            UPDATE jobs SET state = 'succeeded', progress = 1, finished_at = ?1, lease_holder = NULL,
                lease_expires_at = NULL, error_code = NULL, error_message = NULL,
                charged = CASE WHEN parent_id IS NULL THEN cost END
            WHERE state = 'running'
              AND (id, lease_fence) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))
            RETURNING id, parent_id, creator_id, cost, charged
            """))
        update.bind(1, StoredRows.micros(now))
        update.bind(2, pairs)
        while try update.step() {
            let id = update.text(0) ?? ""
            completed.insert(id)
            if let parent = update.text(1) { parents.append(parent) }
            if let charged = update.integer(4) {
                settlements.append(CreditSettlement(creatorID: update.text(2) ?? "", jobID: id, cost: Int(update.integer(3) ?? 0),
                                                    charged: Int(charged), state: "succeeded"))
            }
        }
        try post(db, settlements, now: now)
        let ready = parents.isEmpty ? [] : try settleFamilies(db, parents: parents, now: now)
        // The chain of title: the ledger entries are queued in the transaction that makes the
        // jobs succeed, in one statement for the batch.
        if !completed.isEmpty {
            try db.cachedStatement(sql: "INSERT INTO ledger_queue (job_id) SELECT value FROM json_each(?)")
                .execute(arguments: [jsonArray(Array(completed))])
        }
        var outcomes: [CompletionOutcome] = []
        outcomes.reserveCapacity(completions.count)
        var recorded: Set<String> = []
        for completion in completions {
            let id = completion.token.jobID.rawValue
            // A token listed twice in one batch completes once.
            guard completed.contains(id), recorded.insert(id).inserted else {
                outcomes.append(.leaseLost)
                continue
            }
            for artifact in completion.artifacts {
                try db.cachedStatement(sql: """
                    INSERT INTO artifacts (id, job_id, name, content_type, bytes, sha256, storage_key, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        artifact.id.rawValue, artifact.jobID.rawValue, artifact.name, artifact.contentType,
                        artifact.byteCount, artifact.sha256, artifact.storageKey,
                        StoredRows.micros(artifact.createdAt),
                    ])
            }
            outcomes.append(.completed)
        }
        return (outcomes, ready)
    }

    public func fail(_ token: LeaseToken, error: JobError, retryAt: Date?, now: Date) async throws -> FailureOutcome {
        let (outcome, readyPool): (FailureOutcome, PoolName?) = try await write { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT attempt, max_attempts, cancel_requested, pool, creator_id, parent_id FROM jobs
                    WHERE id = ? AND state = 'running' AND lease_fence = ?
                    """),
                arguments: [token.jobID.rawValue, token.fence]
            ) else { return (.leaseLost, nil) }
            let attempt: Int = row[0]
            let maxAttempts: Int = row[1]
            let cancelRequested: Bool = row[2]
            let parent: String? = row[5]
            if cancelRequested {
                try Self.finish(db, token.jobID, state: "canceled", error: nil, now: now)
                _ = try Self.settleFamilies(db, parents: parent.map { [$0] } ?? [], now: now)
                return (.canceled, nil)
            }
            guard let retryAt, attempt < maxAttempts else {
                try Self.finish(db, token.jobID, state: "failed", error: error, now: now)
                _ = try Self.settleFamilies(db, parents: parent.map { [$0] } ?? [], now: now)
                return (.failed, nil)
            }
            let isDue = retryAt <= now
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = ?, available_at = ?, lease_holder = NULL, lease_expires_at = NULL,
                    error_code = ?, error_message = ?, progress = \(CreditRules.restartProgressSQL)
                WHERE id = ?
                """).execute(arguments: [
                    isDue ? "queued" : "waiting", StoredRows.micros(max(retryAt, now)), error.code, error.message,
                    token.jobID.rawValue,
                ])
            guard isDue else { return (.retrying(at: retryAt), nil) }
            let pool = PoolName(rawValue: row[3])!
            try SQLiteFairQueue.markReady(db, pool: pool, creator: CreatorID(rawValue: row[4])!, count: 1)
            return (.retrying(at: now), pool)
        }
        if let readyPool { workSignal.ring(readyPool) }
        return outcome
    }

    public func release(_ token: LeaseToken, now: Date) async throws -> Bool {
        let pool: PoolName? = try await write { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_holder = NULL,
                        lease_expires_at = NULL, available_at = ?, progress = \(CreditRules.restartProgressSQL)
                    WHERE id = ? AND state = 'running' AND lease_fence = ? AND cancel_requested = 0
                    RETURNING pool, creator_id
                    """),
                arguments: [StoredRows.micros(now), token.jobID.rawValue, token.fence]
            ) else { return nil }
            let pool = PoolName(rawValue: row[0])!
            try SQLiteFairQueue.markReady(db, pool: pool, creator: CreatorID(rawValue: row[1])!, count: 1)
            return pool
        }
        guard let pool else { return false }
        workSignal.ring(pool)
        return true
    }

    public func cancel(id: JobID, scope: AccessScope, now: Date) async throws -> CancelOutcome {
        try await write { db in
            guard let (job, state) = try Self.record(db, id: id, scope: scope) else { return .notFound }
            switch state {
            case "queued", "waiting":
                try Self.finish(db, id, state: "canceled", error: nil, now: now)
                if state == "queued" { try SQLiteFairQueue.markRemoved(db, pool: job.pool, creator: job.creatorID) }
                // A scene job cancelled on its own cancels its film.
                _ = try Self.settleFamilies(db, parents: job.parentID.map { [$0.rawValue] } ?? [], now: now)
                return .canceled(try Self.job(db, id: id, scope: .operator)!)
            case "blocked":
                // A film waiting for its scenes: it and its unfinished scene jobs end now.
                try Self.finish(db, id, state: "canceled", error: nil, now: now)
                try Self.cancelChildren(db, of: id.rawValue, now: now)
                return .canceled(try Self.job(db, id: id, scope: .operator)!)
            case "running":
                try db.cachedStatement(sql: "UPDATE jobs SET cancel_requested = 1 WHERE id = ?")
                    .execute(arguments: [id.rawValue])
                return .cancelRequested(try Self.job(db, id: id, scope: .operator)!)
            default:
                return .alreadyFinished(job)
            }
        }
    }

    /// Moves a job to a terminal state, clearing its lease, and settles its reservation.
    static func finish(_ db: Database, _ id: JobID, state: String, error: JobError?, now: Date) throws {
        try db.cachedStatement(sql: """
            UPDATE jobs SET state = ?, finished_at = ?, lease_holder = NULL, lease_expires_at = NULL,
                error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message)
            WHERE id = ?
            """).execute(arguments: [state, StoredRows.micros(now), error?.code, error?.message, id.rawValue])
        try settleCredits(db, jobs: [id.rawValue], now: now)
    }
}
