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
        let server = try await ThrowawayPostgres.shared()
        let database = try String(
            contentsOf: harness.directory.appendingPathComponent("postgres-database"), encoding: .utf8)
        let logger = Logger(label: "plan-test")
        @Sendable func sql(_ text: String) async throws -> [PostgresRow] {
            try await server.withConnection(database: database) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: text), logger: logger).collect()
            }
        }
        @Sendable func indexReads() async throws -> [String: Int64] {
            var reads: [String: Int64] = [:]
            for row in try await sql("SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes WHERE relname = 'jobs'") {
                let (name, count) = try row.decode((String, Int64).self)
                reads[name] = count
            }
            return reads
        }

        let alice = try await harness.makeCreator("alice")
        _ = try await sql("ALTER TABLE jobs SET (autovacuum_enabled = false)")
        try await harness.enqueue((0..<200).map { _ in harness.newJob(alice) })
        let first = try await harness.lease(200)
        #expect(first.count == 200)
        _ = try await harness.store.complete(first.map { Completion(token: $0.token) }, now: harness.clock.now)
        _ = try await sql("ANALYZE jobs")

        /// The counters once every backend has flushed (idle backends do within a second).
        @Sendable func settledIndexReads() async throws -> [String: Int64] {
            var last = try await indexReads()
            while true {
                try await Task.sleep(for: .milliseconds(1_500))
                let now = try await indexReads()
                if now == last { return now }
                last = now
            }
        }

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
}
