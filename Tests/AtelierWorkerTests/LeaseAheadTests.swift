import AtelierCore
import AtelierScheduler
import AtelierStore
import AtelierWorker
import Foundation
import Synchronization
import Testing

/// A slot leases one job ahead while short jobs run, and hands it back when the job before it
/// turns out long.
@Suite struct LeaseAheadTests {
    @Test func whileAShortJobRunsTheNextIsAlreadyLeasedAndEveryJobCompletesOnce() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        var jobs: [JobID] = []
        for index in 0..<6 { jobs.append(try await fixture.submit(creator, JobRequest(kind: .image, prompt: "job \(index)")).id) }
        let backend = ObservingBackend(store: fixture.store, order: jobs, patience: .seconds(30))
        // Generous bounds, so a machine stalled by other work cannot pass for "not leased ahead".
        let pool = fixture.pool(backend, slots: 1, lease: LeasePolicy(duration: 240), leaseAhead: .seconds(60))
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        for id in jobs {
            let done = try await fixture.waitFor(id) { $0.status.isTerminal }
            #expect(done.status == .succeeded && done.attempt == 1)
            #expect(try await fixture.store.artifacts(of: id).count == 1)
        }
        // The first job runs before anything is leased ahead and the last has nothing after it;
        // every other job found the one after it leased to this worker while it ran.
        let seen = backend.nextWasLeased
        #expect(seen.count == jobs.count)
        #expect(Array(seen[1..<(jobs.count - 1)]) == Array(repeating: true, count: jobs.count - 2))
        #expect(backend.runs.count == jobs.count)
    }

    @Test func withLeasingAheadOffTheNextJobWaitsInTheQueue() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        var jobs: [JobID] = []
        for index in 0..<3 { jobs.append(try await fixture.submit(creator, JobRequest(kind: .image, prompt: "job \(index)")).id) }
        let backend = ObservingBackend(store: fixture.store, order: jobs, patience: .milliseconds(300))
        let pool = fixture.pool(backend, slots: 1, leaseAhead: .zero)
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        for id in jobs { _ = try await fixture.waitFor(id) { $0.status == .succeeded } }
        #expect(backend.nextWasLeased == [false, false, false])
    }

    @Test func aJobLeasedAheadIsHandedBackWhenTheJobBeforeItRunsLong() async throws {
        let fixture = try WorkerFixture()
        let (short, long, after) = try await Self.shortLongAfter(fixture)
        let backend = GatedBackend(watching: after, in: fixture.store)
        let pool = fixture.pool(backend, slots: 1, lease: LeasePolicy(duration: 60), leaseAhead: .seconds(3))
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        _ = try await fixture.waitFor(short) { $0.status == .succeeded }
        // "long" starts with "after" leased ahead of it; it outlasts the patience, so "after"
        // goes back to the queue, its attempt not counted, while "long" still runs.
        _ = try await fixture.waitFor(long) { $0.status == .running }
        let handedBack = try await fixture.waitFor(after) { $0.status == .queued && $0.leaseHolder == nil }
        #expect(backend.watchedWhenLongStarted?.status == .running)
        #expect(backend.watchedWhenLongStarted?.leaseHolder?.rawValue == "test-worker")
        #expect(handedBack.attempt == 0)
        #expect(try await fixture.store.job(id: long, scope: .operator)?.status == .running)
        backend.open()
        for id in [long, after] {
            let done = try await fixture.waitFor(id) { $0.status.isTerminal }
            #expect(done.status == .succeeded && done.attempt == 1)
        }
        #expect(backend.runs.count == 3)
    }

    @Test func drainingHandsBackTheJobLeasedAhead() async throws {
        let fixture = try WorkerFixture()
        let (short, long, after) = try await Self.shortLongAfter(fixture)
        let pool = fixture.pool(GatedBackend(), slots: 1, lease: LeasePolicy(duration: 240), grace: .zero, leaseAhead: .seconds(60))
        let running = Task { try await pool.run() }
        _ = try await fixture.waitFor(short) { $0.status == .succeeded }
        _ = try await fixture.waitFor(after) { $0.status == .running }  // leased ahead of "long"
        pool.beginDraining()
        try await running.value
        for id in [long, after] {
            let released = try #require(try await fixture.store.job(id: id, scope: .operator))
            #expect(released.status == .queued && released.attempt == 0 && released.leaseHolder == nil)
        }
    }
}

extension LeaseAheadTests {
    /// Three jobs of one creator, run in this order: one short, one that runs until its
    /// `GatedBackend` opens, and one after it.
    static func shortLongAfter(_ fixture: WorkerFixture) async throws -> (short: JobID, long: JobID, after: JobID) {
        let creator = try await fixture.makeCreator()
        var ids: [JobID] = []
        for prompt in ["short", "long", "after"] {
            ids.append(try await fixture.submit(creator, JobRequest(kind: .image, prompt: prompt)).id)
        }
        return (ids[0], ids[1], ids[2])
    }
}

/// Records, for each job it runs, whether the job after it (in `order`) is leased — running,
/// held by this worker — while it runs, looking for up to `patience`.
final class ObservingBackend: Backend {
    let store: any JobStore
    let order: [JobID]
    let patience: Duration
    let runs = Counter()
    private let seen = Mutex<[Bool]>([])
    var models: Set<ModelID> { [.builtin] }
    var nextWasLeased: [Bool] { seen.withLock { $0 } }

    init(store: any JobStore, order: [JobID], patience: Duration) {
        self.store = store
        self.order = order
        self.patience = patience
    }

    func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        runs.increment()
        let index = try #require(order.firstIndex(of: job.id))
        var leased = false
        if index + 1 < order.count, index > 0 {
            let deadline = ContinuousClock.now + patience
            while !leased && ContinuousClock.now < deadline {
                let next = try await store.job(id: order[index + 1], scope: .operator)
                leased = next?.status == .running && next?.leaseHolder?.rawValue == "test-worker"
                if !leased { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        seen.withLock { $0.append(leased) }
        return [BackendOutput(name: "output.txt", contentType: "text/plain", data: Data(job.prompt.utf8))]
    }
}

/// Finishes at once, except the job with the prompt "long", which runs until `open()`; as
/// "long" starts it reads the `watched` job.
final class GatedBackend: Backend {
    let runs = Counter()
    private let isOpen = Mutex(false)
    private let watched: (id: JobID, store: any JobStore)?
    private let seen = Mutex<Job?>(nil)
    var models: Set<ModelID> { [.builtin] }
    var watchedWhenLongStarted: Job? { seen.withLock { $0 } }

    init(watching id: JobID? = nil, in store: (any JobStore)? = nil) {
        watched = id.flatMap { id in store.map { (id, $0) } }
    }

    func open() { isOpen.withLock { $0 = true } }

    func run(_ job: Job, context: RunContext) async throws -> [BackendOutput] {
        runs.increment()
        if job.prompt == "long" {
            if let watched {
                let found = try await watched.store.job(id: watched.id, scope: .operator)
                seen.withLock { $0 = found }
            }
            while !isOpen.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        }
        return [BackendOutput(name: "output.txt", contentType: "text/plain", data: Data(job.prompt.utf8))]
    }
}
