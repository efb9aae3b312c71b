public import AtelierCore
import AtelierScheduler
public import Foundation
import Logging
import PostgresNIO

/// What happens to an attempt after its lease, on PostgreSQL.
extension PostgresJobStore {
    public func heartbeat(_ token: LeaseToken, progress: Double?, leaseDuration: TimeInterval, now: Date) async throws
        -> HeartbeatOutcome
    {
        let expiry = StoredRows.micros(now.addingTimeInterval(leaseDuration))
        let clamped = progress.map { min(1, max(0, $0.isFinite ? $0 : 0)) }
        let rows = try await query("""
            UPDATE jobs SET lease_expires_at = \(expiry), progress = COALESCE(\(clamped), progress)
            WHERE id = \(token.jobID.rawValue) AND \(unescaped: PostgresSchema.jobByID(inState: "running"))
              AND lease_fence = \(token.fence)
            RETURNING cancel_requested, parent_id
            """)
        guard let row = rows.first else { return .leaseLost }
        if clamped != nil, let parent = PostgresColumns(row).text(1) {
            // A film's progress follows its scenes'. Its own statement: a heartbeat never waits
            // on a lock for it, and a lost update here is made good by the next heartbeat.
            _ = try await query("""
                UPDATE jobs SET progress = \(FamilyRules.scenesShare) * (
                    SELECT AVG(CASE WHEN state = 'succeeded' THEN 1.0 ELSE progress END) FROM jobs WHERE parent_id = \(parent))
                WHERE id = \(parent) AND \(unescaped: PostgresSchema.jobByID(inState: "blocked"))
                """)
        }
        return .renewed(until: StoredRows.date(expiry), isCancelRequested: PostgresColumns(row).integer(0) == 1)
    }

    public func complete(_ completions: [Completion], now: Date) async throws -> [CompletionOutcome] {
        guard !completions.isEmpty else { return [] }
        try Self.checkCompletions(completions)
        let logger = self.logger
        let (outcomes, ready) = try await transaction { connection in
            let (outcomes, ready, settle) = try await Self.complete(connection, completions, now: now, logger: logger)
            try await settle(connection)
            return (outcomes, ready)
        }
        for pool in ready { notifier.announce(pool) }
        return outcomes
    }

    static func checkCompletions(_ completions: [Completion]) throws {
        for completion in completions {
            for artifact in completion.artifacts where artifact.jobID != completion.token.jobID {
                throw StoreError(.invalidArgument, "artifact \(artifact.id) belongs to another job")
            }
        }
    }

    /// Completes a batch in one statement: each (id, fence) pair must still hold the job's
    /// current lease; RETURNING names the jobs that did, and only those get their artifacts.
    /// A completed scene job may release its film: the pools where that happened come back.
    /// The credits are settled by `settle`, which the caller runs last in its transaction (account
    /// rows are locked last).
    static func complete(_ connection: PostgresConnection, _ completions: [Completion], now: Date,
                         logger: Logger) async throws
        -> (outcomes: [CompletionOutcome], ready: Set<PoolName>, settle: @Sendable (PostgresConnection) async throws -> Void)
    {
        let ids = completions.map(\.token.jobID.rawValue)
        let fences = completions.map(\.token.fence)
        var completed: Set<String> = []
        var parents: [String] = []
        var settlements: [CreditSettlement] = []
        // One completion (a worker acknowledging its job) has a statement of its own: its plan is
        // made once and reused, where the batch form is planned on every run (see below).
        let rows = completions.count == 1
            ? try await connection.rows(CompleteOneStatement(id: ids[0], fence: fences[0], now: StoredRows.micros(now)), logger: logger)
            : try await connection.rows(CompleteStatement(ids: ids, fences: fences, now: StoredRows.micros(now)), logger: logger)
        for row in rows {
            let columns = PostgresColumns(row)
            if let id = columns.text(0) { completed.insert(id) }
            if let parent = columns.text(1) { parents.append(parent) }
            if let id = columns.text(0), let charged = columns.integer(4) {
                settlements.append(CreditSettlement(creatorID: columns.text(2) ?? "", jobID: id,
                                                    cost: Int(columns.integer(3) ?? 0), charged: Int(charged),
                                                    state: "succeeded"))
            }
        }
        // A film that failed or was cancelled with this scene settles too.
        let settle: @Sendable (PostgresConnection) async throws -> Void = { [settlements, parents] connection in
            try await post(connection, settlements, now: now, logger: logger)
            try await settleCredits(connection, jobs: parents, now: now, logger: logger)
        }
        let ready = parents.isEmpty ? [] : try await settleFamilies(connection, parents: parents, now: now, logger: logger)
        var outcomes: [CompletionOutcome] = []
        outcomes.reserveCapacity(completions.count)
        var recorded: Set<String> = []
        var artifacts: [Artifact] = []
        for completion in completions {
            let id = completion.token.jobID.rawValue
            // A token listed twice in one batch completes once.
            guard completed.contains(id), recorded.insert(id).inserted else {
                outcomes.append(.leaseLost)
                continue
            }
            artifacts += completion.artifacts
            outcomes.append(.completed)
        }
        if !artifacts.isEmpty {
            try await connection.query("\(insertingArtifacts: ArtifactColumns(artifacts))", logger: logger)
        }
        return (outcomes, ready, settle)
    }

    public func fail(_ token: LeaseToken, error: JobError, retryAt: Date?, now: Date) async throws -> FailureOutcome {
        let logger = self.logger
        let (outcome, readyPool): (FailureOutcome, PoolName?) = try await transaction { connection in
            guard let row = try await connection.query("""
                SELECT attempt, max_attempts, cancel_requested, pool, creator_id, parent_id FROM jobs
                WHERE id = \(token.jobID.rawValue) AND \(unescaped: PostgresSchema.jobByID(inState: "running"))
                  AND lease_fence = \(token.fence)
                FOR UPDATE
                """, logger: logger).collect().first
            else { return (.leaseLost, nil) }
            let columns = PostgresColumns(row)
            let attempt = Int(columns.integer(0) ?? 0)
            let maxAttempts = Int(columns.integer(1) ?? 0)
            let parents = columns.text(5).map { [$0] } ?? []
            if columns.integer(2) == 1 {
                try await Self.finish(connection, token.jobID, state: "canceled", error: nil, now: now, logger: logger)
                _ = try await Self.settleFamilies(connection, parents: parents, now: now, logger: logger)
                try await Self.settleCredits(connection, jobs: [token.jobID.rawValue] + parents, now: now, logger: logger)
                return (.canceled, nil)
            }
            guard let retryAt, attempt < maxAttempts else {
                try await Self.finish(connection, token.jobID, state: "failed", error: error, now: now, logger: logger)
                _ = try await Self.settleFamilies(connection, parents: parents, now: now, logger: logger)
                try await Self.settleCredits(connection, jobs: [token.jobID.rawValue] + parents, now: now, logger: logger)
                return (.failed, nil)
            }
            let isDue = retryAt <= now
            try await connection.query("""
                UPDATE jobs SET state = \(isDue ? "queued" : "waiting"), available_at = \(StoredRows.micros(max(retryAt, now))),
                    lease_holder = NULL, lease_expires_at = NULL, error_code = \(error.code), error_message = \(error.message),
                    progress = \(unescaped: CreditRules.restartProgressSQL)
                WHERE id = \(token.jobID.rawValue)
                """, logger: logger)
            guard isDue else { return (.retrying(at: retryAt), nil) }
            let pool = PoolName(rawValue: columns.text(3) ?? "") ?? .image
            let creator = CreatorID(rawValue: columns.text(4) ?? "") ?? CreatorID(rawValue: "invalid")!
            try await PostgresFairQueue.markReady(connection, pool: pool, creator: creator, count: 1, logger: logger)
            return (.retrying(at: now), pool)
        }
        if let readyPool { notifier.announce(readyPool) }
        return outcome
    }

    public func release(_ token: LeaseToken, now: Date) async throws -> Bool {
        let logger = self.logger
        let pool: PoolName? = try await transaction { connection in
            guard let row = try await connection.query("""
                UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_holder = NULL,
                    lease_expires_at = NULL, available_at = \(StoredRows.micros(now)),
                    progress = \(unescaped: CreditRules.restartProgressSQL)
                WHERE id = \(token.jobID.rawValue) AND \(unescaped: PostgresSchema.jobByID(inState: "running"))
                  AND lease_fence = \(token.fence) AND cancel_requested = 0
                RETURNING pool, creator_id
                """, logger: logger).collect().first
            else { return nil }
            let columns = PostgresColumns(row)
            let pool = PoolName(rawValue: columns.text(0) ?? "") ?? .image
            let creator = CreatorID(rawValue: columns.text(1) ?? "") ?? CreatorID(rawValue: "invalid")!
            try await PostgresFairQueue.markReady(connection, pool: pool, creator: creator, count: 1, logger: logger)
            return pool
        }
        guard let pool else { return false }
        notifier.announce(pool)
        return true
    }

    public func cancel(id: JobID, scope: AccessScope, now: Date) async throws -> CancelOutcome {
        let logger = self.logger
        return try await transaction { connection in
            guard let (seen, _) = try await Self.record(connection, id: id, scope: scope, logger: logger) else {
                return .notFound
            }
            // The creator's fair-queue row first, as dispatch does, then the job.
            try await PostgresFairQueue.lock(connection, [QueueKey(pool: seen.pool, creator: seen.creatorID)], logger: logger)
            guard let (job, state) = try await Self.record(connection, id: id, scope: scope, lock: true, logger: logger) else {
                return .notFound
            }
            switch state {
            case "queued", "waiting":
                try await Self.finish(connection, id, state: "canceled", error: nil, now: now, logger: logger)
                if state == "queued" {
                    try await PostgresFairQueue.markRemoved(connection, pool: job.pool, creator: job.creatorID, logger: logger)
                }
                // A scene job cancelled on its own cancels its film.
                let parents = job.parentID.map { [$0.rawValue] } ?? []
                _ = try await Self.settleFamilies(connection, parents: parents, now: now, logger: logger)
                try await Self.settleCredits(connection, jobs: [id.rawValue] + parents, now: now, logger: logger)
                return .canceled(try await Self.record(connection, id: id, scope: .operator, logger: logger)!.job)
            case "blocked":
                // A film waiting for its scenes: it and its unfinished scene jobs end now.
                try await Self.finish(connection, id, state: "canceled", error: nil, now: now, logger: logger)
                try await Self.cancelChildren(connection, of: id.rawValue, now: now, logger: logger)
                try await Self.settleCredits(connection, jobs: [id.rawValue], now: now, logger: logger)
                return .canceled(try await Self.record(connection, id: id, scope: .operator, logger: logger)!.job)
            case "running":
                try await connection.query("UPDATE jobs SET cancel_requested = 1 WHERE id = \(id.rawValue)", logger: logger)
                return .cancelRequested(try await Self.record(connection, id: id, scope: .operator, logger: logger)!.job)
            default:
                return .alreadyFinished(job)
            }
        }
    }

    /// Moves a job to a terminal state, clearing its lease. The caller settles its credits last
    /// in the transaction (`settleCredits`).
    static func finish(_ connection: PostgresConnection, _ id: JobID, state: String, error: JobError?, now: Date,
                       logger: Logger) async throws {
        try await connection.query("""
            UPDATE jobs SET state = \(state), finished_at = \(StoredRows.micros(now)), lease_holder = NULL,
                lease_expires_at = NULL, error_code = COALESCE(\(error?.code), error_code),
                error_message = COALESCE(\(error?.message), error_message)
            WHERE id = \(id.rawValue)
            """, logger: logger)
    }
}

/// Marks the jobs whose (id, fence) still holds the current lease as succeeded and queues their
/// ledger entries in the same statement (the chain of title); returns their ids.
/// Prepared: it runs for every acknowledged batch. PostgreSQL plans it on every run (the
/// generic plan's estimate for the UNNEST join always looks worse than a custom one).
private struct CompleteStatement: PostgresPreparedQuery {
    var ids: [String]
    var fences: [Int64]
    var now: Int64

    static let example = CompleteStatement(ids: [], fences: [], now: 0)

    var query: PostgresQuery {
        """
        WITH \(completing: ids, fences, now: now, match: ("(id, lease_fence) IN (SELECT * FROM UNNEST(", "::text[], ", "::bigint[]))"))
        SELECT id, parent_id, creator_id, cost, charged FROM done
        """
    }
}

/// `CompleteStatement` for one job, matched by primary key: after its first runs PostgreSQL
/// keeps one generic plan for it instead of planning each completion (~0.35 ms each).
private struct CompleteOneStatement: PostgresPreparedQuery {
    var id: String
    var fence: Int64
    var now: Int64

    static let example = CompleteOneStatement(id: "", fence: 0, now: 0)

    var query: PostgresQuery {
        """
        WITH \(completing: id, fence, now: now, match: PostgresQuery.StringInterpolation.oneJob)
        SELECT id, parent_id, creator_id, cost, charged FROM done
        """
    }
}

/// Artifacts as the column arrays `insertingArtifacts` unnests.
struct ArtifactColumns: Sendable {
    var ids: [String] = []
    var jobIDs: [String] = []
    var names: [String] = []
    var contentTypes: [String] = []
    var byteCounts: [Int64] = []
    var sha256s: [String] = []
    var storageKeys: [String] = []
    var createdAt: [Int64] = []

    init(_ artifacts: [Artifact]) {
        for artifact in artifacts {
            ids.append(artifact.id.rawValue)
            jobIDs.append(artifact.jobID.rawValue)
            names.append(artifact.name)
            contentTypes.append(artifact.contentType)
            byteCounts.append(Int64(artifact.byteCount))
            sha256s.append(artifact.sha256)
            storageKeys.append(artifact.storageKey)
            createdAt.append(StoredRows.micros(artifact.createdAt))
        }
    }
}

extension PostgresQuery.StringInterpolation {
    /// One `INSERT INTO artifacts` of all of `artifacts`; with `gate` (SQL over earlier CTEs),
    /// only when it holds.
    mutating func appendInterpolation(insertingArtifacts artifacts: ArtifactColumns, onlyIf gate: StaticString? = nil) {
        appendLiteral("INSERT INTO artifacts (id, job_id, name, content_type, bytes, sha256, storage_key, created_at) SELECT * FROM UNNEST(")
        appendInterpolation(artifacts.ids)
        appendLiteral("::text[], ")
        appendInterpolation(artifacts.jobIDs)
        appendLiteral("::text[], ")
        appendInterpolation(artifacts.names)
        appendLiteral("::text[], ")
        appendInterpolation(artifacts.contentTypes)
        appendLiteral("::text[], ")
        appendInterpolation(artifacts.byteCounts)
        appendLiteral("::bigint[], ")
        appendInterpolation(artifacts.sha256s)
        appendLiteral("::text[], ")
        appendInterpolation(artifacts.storageKeys)
        appendLiteral("::text[], ")
        appendInterpolation(artifacts.createdAt)
        appendLiteral("::bigint[])")
        if let gate {
            appendLiteral(" WHERE ")
            appendLiteral(gate.description)
        }
    }

    /// `completing`'s match for one job by primary key.
    static let oneJob = ("id = ", "::text AND lease_fence = ", "::bigint")

    /// The CTEs `done` (the jobs made succeeded, returning id, parent_id, creator_id, cost,
    /// charged) and `queued` (their ledger entries), for the jobs matched by
    /// `match.0 id match.1 fence match.2` that still hold that lease. With `topLevelOnly`, a
    /// scene job (it has a film to settle) is left alone.
    mutating func appendInterpolation(completing id: some PostgresDynamicTypeEncodable, _ fence: some PostgresDynamicTypeEncodable,
                                      now: Int64, match: (String, String, String), topLevelOnly: Bool = false) {
        appendLiteral("""
            done AS (
                UPDATE jobs SET state = 'succeeded', progress = 1, finished_at =
            """)
        appendInterpolation(now)
        appendLiteral("""
            ::bigint,
                    lease_holder = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL,
                    charged = CASE WHEN parent_id IS NULL THEN cost END
                WHERE \(PostgresSchema.jobByID(inState: "running"))\(topLevelOnly ? " AND parent_id IS NULL" : "")
                  AND \(match.0)
            """)
        appendInterpolation(id)
        appendLiteral(match.1)
        appendInterpolation(fence)
        appendLiteral("""
            \(match.2)
                RETURNING id, parent_id, creator_id, cost, charged
            ), queued AS (
                INSERT INTO ledger_queue (job_id) SELECT id FROM done
            )
            """)
    }
}
