import AtelierCore
import AtelierScheduler
public import Foundation
import Logging
import PostgresNIO

/// Acknowledge-and-fetch on PostgreSQL: a worker's completions and its next lease in one
/// transaction.
extension PostgresJobStore {
    public func complete(_ completions: [Completion], thenLease next: LeaseRequest, now: Date) async throws
        -> (outcomes: [CompletionOutcome], leases: [Lease])
    {
        try Self.checkCompletions(completions)
        let canLease = next.limit > 0 && !next.models.isEmpty
        let logger = self.logger
        let maxRunning = defaultQuotas.maxRunningJobs
        if completions.count == 1, next.limit == 1, canLease, !Self.planAfterLocking {
            switch try await statement({ connection in
                try await Self.completeOneThenLeaseOne(connection, completions[0], next, now: now, maxRunning: maxRunning,
                                                       logger: logger)
            }) {
            case .leased(let leases):
                return ([.completed], leases)
            case .completedOnly:
                return ([.completed], try await leaseJobs(next, now: now))
            case .notCompleted:
                break  // lease lost, or a scene job: the general path below says which, and leases
            }
        }
        let (outcomes, batch, ready) = try await transaction { connection in
            let (outcomes, ready, settle) = completions.isEmpty
                ? ([], [], { _ in }) : try await Self.complete(connection, completions, now: now, logger: logger)
            let batch = canLease
                ? try await Self.lease(connection, next, now: now, maxRunning: maxRunning, logger: logger) : LeaseBatch(leases: [])
            try await settle(connection)
            return (outcomes, batch, ready)
        }
        for pool in ready { notifier.announce(pool) }
        if batch.heldByAnother { ringSoon(next.pool) }
        return (outcomes, batch.leases)
    }

    /// What `completeOneThenLeaseOne` did.
    enum AcknowledgeAndFetch {
        /// The job succeeded and the next one was leased.
        case leased([Lease])
        /// The job succeeded but nothing was leased: there was nothing to lease, other
        /// dispatchers held the creators with work, or the job chosen had just been leased by
        /// another one. The caller leases on its own, which tells these apart (and an idle
        /// worker pays the extra round trip only as it goes idle).
        case completedOnly
        /// Nothing was written: the lease was no longer held, or the job is a film's scene.
        case notCompleted
    }

    /// The worker slot's round trip — one job acknowledged, the next one leased — as one
    /// statement (`CompleteOneThenLeaseOneStatement`), so PostgreSQL makes it one transaction
    /// without BEGIN and COMMIT round trips. It does what the general path does for a job
    /// without a film (success, artifacts, ledger entry, credit capture, then `leaseOne`) and
    /// writes nothing when that job cannot be completed so, leaving it to the general path.
    static func completeOneThenLeaseOne(_ connection: PostgresConnection, _ completion: Completion, _ next: LeaseRequest,
                                        now: Date, maxRunning: Int?, logger: Logger) async throws -> AcknowledgeAndFetch {
        let statement = CompleteOneThenLeaseOneStatement(
            id: completion.token.jobID.rawValue, fence: completion.token.fence, now: StoredRows.micros(now),
            day: QuotaRules.dayNumber(of: now), artifacts: ArtifactColumns(completion.artifacts),
            lease: LeaseOneValues(next, now: now, maxRunning: maxRunning))
        guard let row = try await connection.rows(statement, logger: logger).first else { return .notCompleted }
        let columns = PostgresColumns(row)
        guard columns.integer(Int32(StoredRows.jobColumnCount)) == 1 else { return .notCompleted }
        guard columns.text(0) != nil else { return .completedOnly }
        let (job, fence) = StoredRows.job(columns)
        return .leased([Lease(job: job, token: LeaseToken(jobID: job.id, fence: fence))])
    }
}

/// One job of no film completed — its artifacts stored, its ledger entry queued, its credits
/// captured — and one job leased (`leaseOne`'s CTEs, run only when the completion happened), in
/// one statement. The order of the locks is the general path's: the completed job's row (`done`
/// runs first: everything else depends on it), then the fair-queue row (skipping held ones),
/// then the account row last (`posted` waits for `charged`, which waits for the lease).
/// Returns the leased job's columns (NULL when none was) and whether the job was completed (0 or 1).
private struct CompleteOneThenLeaseOneStatement: PostgresPreparedQuery {
    var id: String
    var fence: Int64
    var now: Int64
    var day: Int64
    var artifacts: ArtifactColumns
    var lease: LeaseOneValues

    static let example = CompleteOneThenLeaseOneStatement(id: "", fence: 0, now: 0, day: 0, artifacts: ArtifactColumns([]),
                                                          lease: .example)

    var query: PostgresQuery {
        """
        WITH \(completing: id, fence, now: now, match: PostgresQuery.StringInterpolation.oneJob, topLevelOnly: true),
        stored AS (
            \(insertingArtifacts: artifacts, onlyIf: "EXISTS (SELECT 1 FROM done)")
        ), lines AS (
            INSERT INTO credit_transactions (creator_id, kind, amount, job_id, actor, reason, created_at)
            SELECT creator_id, 'capture', charged, id, \(CreditTransaction.platformActor)::text,
                \(CreditSettlement.reason(forState: "succeeded"))::text, \(now)::bigint
            FROM done WHERE charged > 0
        ), \(leaseOne: lease, onlyIf: "EXISTS (SELECT 1 FROM done)", completing: id),
        posted AS (
            UPDATE creators AS c SET \(settlingAccountsOnDay: day)
            FROM (SELECT creator_id, charged AS captured, cost AS ended FROM done) AS t
            WHERE c.id = t.creator_id AND (SELECT count(*) FROM charged) >= 0
        )
        SELECT l.*, (SELECT count(*) FROM done)
        FROM (SELECT 1) AS one LEFT JOIN leased l ON true
        """
    }
}
