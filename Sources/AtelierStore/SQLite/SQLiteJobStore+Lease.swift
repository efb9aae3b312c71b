import AtelierCore
import AtelierScheduler
public import Foundation
import GRDB

/// Handing out work: fair-order lease batches and the rows that go with them.
extension SQLiteJobStore {
    /// Up to this many leases, rows come back from the write itself (one round trip: latency);
    /// larger batches are decoded on a reader after the commit (the writer is the bottleneck).
    static let directLeaseLimit = 16

    public func leaseJobs(_ request: LeaseRequest, now: Date) async throws -> [Lease] {
        guard request.limit > 0, !request.models.isEmpty else { return [] }
        let returnsRows = request.limit <= Self.directLeaseLimit
        let maxRunning = defaultQuotas.maxRunningJobs
        let leased = try await write { db in try Self.lease(db, request, returnsRows: returnsRows, now: now, defaultMaxRunning: maxRunning) }
        return try await leases(from: leased, returnsRows: returnsRows)
    }

    /// Turns what the write recorded into leases. When the write did not return rows, they are
    /// read after the commit on a reader connection, in parallel with the next write: nothing but
    /// the lease holder can change a running job meanwhile, and the fence comes from the write.
    private func leases(from leased: [Leased], returnsRows: Bool) async throws -> [Lease] {
        guard !returnsRows, !leased.isEmpty else { return leased.compactMap(\.lease) }
        let jobs = try await database.read { db in try Self.jobs(db, ids: leased.map(\.id)) }
        return leased.compactMap { entry in
            jobs[entry.id].map { Lease(job: $0, token: LeaseToken(jobID: $0.id, fence: entry.fence)) }
        }
    }

    /// One leased job as the write transaction saw it: always its id and new fence, and the whole
    /// lease when rows were returned.
    struct Leased: Sendable {
        var id: String
        var fence: Int64
        var lease: Lease?
    }

    /// Plans and records one lease batch, in dispatch order.
    private static func lease(_ db: Database, _ request: LeaseRequest, returnsRows: Bool, now: Date,
                              defaultMaxRunning: Int?) throws -> [Leased] {
        var planner = SQLiteLeasePlanner(db: db, pool: request.pool, models: request.models.map(\.rawValue).sorted(),
                                         limit: request.limit, defaultMaxRunning: defaultMaxRunning)
        let plan = try planner.plan()
        guard !plan.jobs.isEmpty else { return [] }
        let ids = plan.jobs.map(\.jobID)
        // Bound and read through SQLite's C API: this statement runs for every job leased.
        let update = SQLiteRawStatement(try db.cachedStatement(sql: """
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_fence = lease_fence + 1,
                started_at = COALESCE(started_at, ?1), lease_holder = ?2, lease_expires_at = ?3
            WHERE id IN (SELECT value FROM json_each(?4)) AND state = 'queued'
            RETURNING \(returnsRows ? StoredRows.jobColumns : "id, lease_fence")
            """))
        update.bind(1, StoredRows.micros(now))
        update.bind(2, request.worker.rawValue)
        update.bind(3, StoredRows.micros(now.addingTimeInterval(request.leaseDuration)))
        update.bind(4, jsonArray(ids))
        var leased: [String: Leased] = [:]
        leased.reserveCapacity(ids.count)
        while try update.step() {
            if returnsRows {
                let (job, fence) = StoredRows.job(update)
                leased[job.id.rawValue] = Leased(id: job.id.rawValue, fence: fence,
                                                 lease: Lease(job: job, token: LeaseToken(jobID: job.id, fence: fence)))
            } else {
                let id = update.text(0) ?? ""
                leased[id] = Leased(id: id, fence: update.integer(1) ?? 0)
            }
        }
        precondition(leased.count == ids.count, "planned jobs must all be queued inside the same transaction")
        for (creator, pass, served) in plan.creators {
            try db.cachedStatement(sql: """
                UPDATE fair_queues SET pass = ?, ready = ready - ? WHERE pool = ? AND creator_id = ?
                """).execute(arguments: [pass, served, request.pool.rawValue, creator.rawValue])
        }
        return ids.map { leased[$0]! }
    }

    /// Full job rows by id, decoded through SQLite's C API.
    static func jobs(_ db: Database, ids: [String]) throws -> [String: Job] {
        let select = SQLiteRawStatement(try db.cachedStatement(sql: """
            SELECT \(StoredRows.jobColumns) FROM jobs WHERE id IN (SELECT value FROM json_each(?1))
            """))
        select.bind(1, jsonArray(ids))
        var jobs: [String: Job] = [:]
        jobs.reserveCapacity(ids.count)
        while try select.step() {
            let job = StoredRows.job(select).job
            jobs[job.id.rawValue] = job
        }
        return jobs
    }

    /// A JSON array of identifiers, for `json_each`. Identifiers never need escaping.
    static func jsonArray(_ ids: [String]) -> String {
        "[\"" + ids.joined(separator: "\",\"") + "\"]"
    }

    public func complete(_ completions: [Completion], thenLease next: LeaseRequest, now: Date) async throws
        -> (outcomes: [CompletionOutcome], leases: [Lease])
    {
        let pairs = try Self.completionPairs(completions)
        let canLease = next.limit > 0 && !next.models.isEmpty
        let returnsRows = next.limit <= Self.directLeaseLimit
        let maxRunning = defaultQuotas.maxRunningJobs
        let (outcomes, leased, ready) = try await write { db in
            let (outcomes, ready) = completions.isEmpty ? ([], []) : try Self.complete(db, completions, pairs: pairs, now: now)
            let leased = canLease ? try Self.lease(db, next, returnsRows: returnsRows, now: now, defaultMaxRunning: maxRunning) : []
            return (outcomes, leased, ready)
        }
        for pool in ready { workSignal.ring(pool) }
        return (outcomes, try await leases(from: leased, returnsRows: returnsRows))
    }
}
