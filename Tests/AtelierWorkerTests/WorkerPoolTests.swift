import AtelierBlobs
import AtelierCore
import AtelierMedia
import AtelierScheduler
import AtelierStore
import AtelierWorker
import Foundation
import Testing

@Suite struct WorkerPoolTests {
    @Test func theBuiltinBackendRendersQueuedJobsToStoredArtifacts() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        let ffmpeg = FFmpeg.locate(searchPath: ProcessInfo.processInfo.environment["PATH"])
        let images = fixture.pool(BuiltinBackend(ffmpeg: ffmpeg), pool: .image)
        let videos = fixture.pool(BuiltinBackend(ffmpeg: ffmpeg), pool: .video, slots: 1)
        let running = Task { try await images.run() }
        let runningVideos = Task { try await videos.run() }
        defer { running.cancel(); runningVideos.cancel() }
        let still = try await fixture.submit(creator, JobRequest(
            kind: .image, prompt: "a lighthouse at dusk", params: JobParams(width: 160, height: 96, seed: 3)))
        let loop = try await fixture.submit(creator, JobRequest(
            kind: .video, prompt: "snow over the mountains", params: JobParams(width: 96, height: 64, format: .gif, frames: 4)))
        for (job, contentType) in [(still, "image/png"), (loop, "image/gif")] {
            let done = try await fixture.waitFor(job.id) { $0.status.isTerminal }
            #expect(done.status == .succeeded && done.attempt == 1 && done.progress == 1)
            let artifacts = try await fixture.store.artifacts(of: job.id)
            #expect(artifacts.count == 1)
            let artifact = try #require(artifacts.first)
            #expect(artifact.contentType == contentType)
            let key = try #require(BlobKey(rawValue: artifact.storageKey))
            #expect(key.creator == creator && key.job == job.id)
            let bytes = try await fixture.blobs.get(key)
            #expect(bytes.count == artifact.byteCount && SHA256Hex.digest(bytes) == artifact.sha256)
        }
        // The stored picture is exactly what the renderer draws for that prompt and seed.
        let expected = try PNGEncoder.encode(ProceduralRenderer().render(prompt: "a lighthouse at dusk", width: 160, height: 96, seed: 3))
        let stored = try await fixture.store.artifacts(of: still.id)[0]
        #expect(try await fixture.blobs.get(BlobKey(rawValue: stored.storageKey)!) == expected)
    }

    @Test func aWorkerThatVanishesMidJobLosesNothingAndTheJobCompletesOnce() async throws {
        let clock = ManualWallClock()
        let fixture = try WorkerFixture(clock: clock)
        let creator = try await fixture.makeCreator()
        let job = try await fixture.submit(creator, JobRequest(kind: .image, prompt: "a fox", params: JobParams(width: 64, height: 64)))
        // A worker leases the job and then disappears without a word.
        let ghost = try #require(try await fixture.store.leaseJobs(
            LeaseRequest(pool: .image, worker: WorkerID(rawValue: "ghost")!, models: [.builtin], leaseDuration: 30),
            now: clock.now).first)
        let backend = FlakyBackend(failures: 0, isRetryable: true)
        let pool = fixture.pool(backend)
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        let maintenance = StoreMaintenance(store: fixture.store, clock: clock)
        #expect(try await maintenance.sweep().reclaimed.isEmpty)
        clock.advance(by: 31)
        #expect(try await maintenance.sweep().reclaimed == [ReclaimedLease(jobID: job.id, status: .queued)])
        let done = try await fixture.waitFor(job.id) { $0.status.isTerminal }
        #expect(done.status == .succeeded && done.attempt == 2 && backend.runs.count == 1)
        // The ghost returns and tries to finish: rejected, and nothing changes.
        let late = Completion(token: ghost.token, artifacts: [])
        #expect(try await fixture.store.complete([late], now: clock.now) == [.leaseLost])
        #expect(try await fixture.store.artifacts(of: job.id).count == 1)
        #expect(try await fixture.store.job(id: job.id, scope: .operator) == done)
    }

    @Test func cancellingARunningJobStopsItsBackend() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        let backend = EndlessBackend()
        let pool = fixture.pool(backend, lease: LeasePolicy(duration: 0.6))
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        let job = try await fixture.submit(creator, JobRequest(kind: .image, prompt: "endless"))
        // Progress travels from the backend to the store with the heartbeats.
        _ = try await fixture.waitFor(job.id) { $0.status == .running && $0.progress >= 0.3 }
        _ = try await fixture.store.cancel(id: job.id, scope: .creator(creator), now: fixture.clock.now)
        let done = try await fixture.waitFor(job.id) { $0.status.isTerminal }
        #expect(done.status == .canceled && backend.runs.count == 1)
    }

    @Test func retryableFailuresAreRetriedAfterABackoff() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        let backend = FlakyBackend(failures: 2, isRetryable: true)
        let pool = fixture.pool(backend, retry: RetryPolicy(base: 0.05, maximum: 0.1))
        let maintenance = StoreMaintenance(store: fixture.store, clock: fixture.clock, interval: .milliseconds(20))
        let running = Task { try await pool.run() }
        let sweeping = Task { try await maintenance.run() }
        defer { running.cancel(); sweeping.cancel() }
        let job = try await fixture.submit(creator, JobRequest(kind: .image, prompt: "flaky"))
        let done = try await fixture.waitFor(job.id) { $0.status.isTerminal }
        #expect(done.status == .succeeded && done.attempt == 3 && backend.runs.count == 3)
    }

    @Test func finalFailuresAreNotRetried() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        let backend = FlakyBackend(failures: 5, isRetryable: false)
        let pool = fixture.pool(backend)
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        let job = try await fixture.submit(creator, JobRequest(kind: .image, prompt: "bad"))
        let done = try await fixture.waitFor(job.id) { $0.status.isTerminal }
        #expect(done.status == .failed && done.attempt == 1 && done.error?.code == "gpu_busy")
        #expect(backend.runs.count == 1)
    }

    @Test func gracefulShutdownHandsUnfinishedLeasesBack() async throws {
        let fixture = try WorkerFixture()
        let creator = try await fixture.makeCreator()
        let pool = fixture.pool(EndlessBackend(), grace: .zero)
        let running = Task { try await pool.run() }
        let job = try await fixture.submit(creator, JobRequest(kind: .image, prompt: "long"))
        _ = try await fixture.waitFor(job.id) { $0.status == .running }
        pool.beginDraining()
        try await running.value
        let released = try #require(try await fixture.store.job(id: job.id, scope: .operator))
        #expect(released.status == .queued && released.attempt == 0 && released.leaseHolder == nil)
    }
}
