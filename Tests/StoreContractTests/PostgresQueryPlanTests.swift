import AtelierCore
import AtelierStore
import AtelierTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// How the PostgreSQL engine's statements reach their rows, read from the server's own index
/// statistics (`pg_stat_user_indexes`) rather than from timings.
@Suite struct PostgresQueryPlanTests {
    /// A queue's states churn faster than ANALYZE runs. Here the statistics are taken while no
    /// job is queued or running and then kept (autovacuum off for the table); a lease batch, its
    /// heartbeats, completions and releases must still find their jobs through the primary key,
    /// not by reading the whole `jobs_ready` or `jobs_lease_expiry` partial index and filtering
    /// it by id — which is what the planner chose for `state = '…'` on such statistics.
    @Test func jobsFoundByIDGoThroughThePrimaryKeyWhateverTheStatisticsSay() async throws {
        let harness = try await StoreHarness(.postgres)
        let database = try await PlanProbe(harness)
        func sql(_ text: String) async throws -> [PostgresRow] { try await database.sql(text) }
        func indexReads() async throws -> [String: Int64] { try await database.indexReads() }
        func settledIndexReads() async throws -> [String: Int64] { try await database.settledIndexReads() }

        let alice = try await harness.makeCreator("alice")
        _ = try await sql("ALTER TABLE jobs SET (autovacuum_enabled = false)")
        try await harness.enqueue((0..<200).map { _ in harness.newJob(alice) })
        let first = try await harness.lease(200)
        #expect(first.count == 200)
        _ = try await harness.store.complete(first.map { Completion(token: $0.token) }, now: harness.clock.now)
        _ = try await sql("ANALYZE jobs")

        // A lease batch reads its head jobs from `jobs_ready` (a few hundred); the bad plan read
        // every queued job's entry on top, to find the chosen ones by id.
        let queued = 3_000
        for _ in 0..<(queued / 500) { try await harness.enqueue((0..<500).map { _ in harness.newJob(alice) }) }
        let beforeLease = try await settledIndexReads()
        let leases = try await harness.lease(500)
        #expect(leases.count == 500)
        let afterLease = try await settledIndexReads()
        let readyReads = (afterLease["jobs_ready"] ?? 0) - (beforeLease["jobs_ready"] ?? 0)
        #expect(readyReads > 0 && readyReads < Int64(queued), "\(beforeLease) → \(afterLease)")

        // One job at a time by id: one primary-key entry each, and never the whole
        // `jobs_lease_expiry` index (500 running jobs) filtered by id.
        for lease in leases.prefix(20) {
            let outcome = try await harness.store.heartbeat(
                lease.token, progress: 0.5, leaseDuration: 30, now: harness.clock.now)
            #expect(outcome == .renewed(until: harness.clock.now.addingTimeInterval(30), isCancelRequested: false))
        }
        let outcomes = try await harness.store.complete(
            leases[20..<40].map { Completion(token: $0.token) }, now: harness.clock.now)
        #expect(outcomes.allSatisfy { $0 == .completed })
        for lease in leases[40..<45] { #expect(try await harness.store.release(lease.token, now: harness.clock.now)) }
        for lease in leases[45..<50] {
            let outcome = try await harness.store.fail(
                lease.token, error: JobError(code: "render_failed", message: "no"), retryAt: nil, now: harness.clock.now)
            #expect(outcome == .failed)
        }
        let byID: Int64 = 50
        var after = afterLease
        let deadline = ContinuousClock.now + .seconds(20)
        while (after["jobs_pkey"] ?? 0) - (afterLease["jobs_pkey"] ?? 0) < byID, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            after = try await indexReads()
        }
        #expect((after["jobs_pkey"] ?? 0) - (afterLease["jobs_pkey"] ?? 0) >= byID, "\(afterLease) → \(after)")
        #expect(after["jobs_lease_expiry"] == afterLease["jobs_lease_expiry"], "\(afterLease) → \(after)")
    }

    /// A dispatcher that finds every creator held by another one asks whether work was waiting
    /// (so it looks again soon rather than at its idle poll). That question must probe each
    /// waiting creator for one job, not read the pool's whole queue: with statistics taken
    /// while nothing was queued, PostgreSQL made the plain `EXISTS` a semi-join over every
    /// queued job — 7.7 ms a call in the throughput benchmark (up to 20,000 queued).
    @Test func askingWhetherHeldWorkWaitsReadsOneJobPerCreatorNotTheQueue() async throws {
        let harness = try await StoreHarness(.postgres)
        let database = try await PlanProbe(harness)
        let creators = [try await harness.makeCreator("alice"), try await harness.makeCreator("bob")]
        _ = try await database.sql("ALTER TABLE jobs SET (autovacuum_enabled = false)")
        _ = try await database.sql("ANALYZE jobs")
        let queued = 3_000
        for creator in creators {
            for _ in 0..<(queued / 2 / 500) { try await harness.enqueue((0..<500).map { _ in harness.newJob(creator) }) }
        }

        // Another dispatcher holds both creators' fair-queue rows while this one leases.
        let before = try await database.settledIndexReads()
        let leased = try await database.holdingFairQueues {
            try await harness.lease(100)
        }
        #expect(leased.isEmpty)
        let after = try await database.settledIndexReads()
        let readyReads = (after["jobs_ready"] ?? 0) - (before["jobs_ready"] ?? 0)
        #expect(readyReads >= 1 && readyReads <= Int64(creators.count) * 2, "\(before) → \(after)")

        // Released, the same lease takes the jobs in fair order.
        let leases = try await harness.lease(100)
        #expect(leases.count == 100)
        #expect(Set(leases.map(\.job.creatorID)) == Set(creators))
    }

    /// A plain submission is one statement that queues the jobs and reserves their credits
    /// together; it hands over to the general transaction (by calling `atelier_refuse`, which
    /// rolls the statement back) only when that has something to decide: a shortfall, or quotas
    /// of the creator's own. Counted by the server: every run of the jobs insert draws one
    /// activation per queue from `fair_queue_activation`, a sequence, which a rollback does not
    /// give back.
    @Test func aPlainSubmissionIsOneStatementUnlessCreditsOrQuotasNeedDeciding() async throws {
        let harness = try await StoreHarness(.postgres)
        let database = try await PlanProbe(harness)
        let alice = try await harness.makeCreator("alice", credits: 1_000)
        let bob = try await harness.makeCreator("bob", credits: 1)
        let carol = try await harness.makeCreator("carol", credits: 1_000)
        _ = try await harness.store.setQuotas(Quotas(maxQueuedJobs: 2), of: carol)
        func insertsRun() async throws -> Int64 {
            let rows = try await database.sql("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fair_queue_activation")
            return try rows.first?.decode(Int64.self) ?? -1
        }

        var before = try await insertsRun()
        try await harness.enqueue([harness.newJob(alice, cost: 3), harness.newJob(alice, cost: 4)])
        #expect(try await insertsRun() - before == 1, "one statement")
        #expect(try await harness.auditCredits(alice) == CreditAccount(balance: 1_000, reserved: 7))

        // Bob is short: the statement hands over, and the transaction refuses.
        before = try await insertsRun()
        await #expect(throws: StoreError.self) { try await harness.enqueue([harness.newJob(bob, cost: 5)]) }
        #expect(try await insertsRun() - before == 2, "handed over")
        // Carol has quotas of her own: every submission of hers is decided by the transaction.
        before = try await insertsRun()
        try await harness.enqueue([harness.newJob(carol), harness.newJob(carol)])
        await #expect(throws: StoreError.self) { try await harness.enqueue([harness.newJob(carol)]) }
        #expect(try await insertsRun() - before == 4, "handed over twice")
        #expect(try await harness.lease(10).count == 4)
        #expect(try await harness.auditCredits(bob) == CreditAccount(balance: 1, reserved: 0))
        #expect(try await harness.auditCredits(carol) == CreditAccount(balance: 1_000, reserved: 2))
    }
}

/// The test's own connections to a harness's PostgreSQL database, beside the store's.
private struct PlanProbe {
    let server: ThrowawayPostgres
    let database: String
    let logger = Logger(label: "plan-test")

    init(_ harness: StoreHarness) async throws {
        server = try await ThrowawayPostgres.shared()
        database = try String(contentsOf: harness.directory.appendingPathComponent("postgres-database"), encoding: .utf8)
    }

    func sql(_ text: String) async throws -> [PostgresRow] {
        try await server.withConnection(database: database) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: text), logger: logger).collect()
        }
    }

    /// Rows read from each index of `jobs` so far, by the server's statistics.
    func indexReads() async throws -> [String: Int64] {
        var reads: [String: Int64] = [:]
        for row in try await sql("SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes WHERE relname = 'jobs'") {
            let (name, count) = try row.decode((String, Int64).self)
            reads[name] = count
        }
        return reads
    }

    /// The counters once every backend has flushed (idle backends do within a second).
    func settledIndexReads() async throws -> [String: Int64] {
        var last = try await indexReads()
        while true {
            try await Task.sleep(for: .milliseconds(1_500))
            let now = try await indexReads()
            if now == last { return now }
            last = now
        }
    }

    /// Runs `body` while a transaction of its own holds every fair-queue row, as a dispatcher
    /// in the middle of a lease does.
    func holdingFairQueues<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await server.withConnection(database: database) { connection in
            _ = try await connection.query("BEGIN", logger: logger).collect()
            let held = try await connection.query("SELECT creator_id FROM fair_queues FOR UPDATE", logger: logger).collect()
            #expect(!held.isEmpty)
            do {
                let result = try await body()
                _ = try await connection.query("ROLLBACK", logger: logger).collect()
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger).collect()
                throw error
            }
        }
    }
}
