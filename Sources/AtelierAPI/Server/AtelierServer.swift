import AtelierCore
import AtelierBlobs
import AtelierLedger
import AtelierMedia
import AtelierPlanning
import AtelierScheduler
import AtelierStore
import AtelierWire
import AtelierWorker
public import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle

/// The platform in one process: the store (embedded SQLite or PostgreSQL), the blob store
/// (files or S3), built-in worker slots, store maintenance and the HTTP API, run as one
/// service group with graceful shutdown. Any number of processes may share one PostgreSQL
/// database and one bucket.
public final class AtelierServer: Sendable {
    public let configuration: ServerConfiguration
    public let services: APIServices
    /// The admin key in force, and whether it was created at this start (show it once).
    public let adminKey: String
    public let adminKeyWasCreated: Bool
    let logger: Logger
    let ffmpeg: FFmpeg?
    let ffprobe: FFprobe?

    /// Opens the platform's store and blob store as `configuration` selects (the embedded SQLite
    /// file or PostgreSQL; files or an S3 bucket) and builds the services on them. Migrations run
    /// here, so a server that opened is ready for requests.
    public static func open(configuration: ServerConfiguration, logger: Logger = Logger(label: "atelier")) async throws -> AtelierServer {
        let root = configuration.dataDirectory
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let (adminKey, created) = try Secrets.adminKey(configured: configuration.adminKey, directory: root)
        let signingKey = try Secrets.signingKey(configured: configuration.signingKey, directory: root)
        let ledgerSigner = try Secrets.ledgerKey(configured: configuration.ledgerKey, name: configuration.ledgerOrigin,
                                                 directory: root)
        let planning = try PlanningConfiguration(environment: configuration.environment)
        let blobs = try BlobStores.open(configuration.storage, dataDirectory: root,
                                         environment: configuration.environment, logger: logger)
        let engine: any JobStore
        do {
            if let url = configuration.databaseURL {
                engine = try await PostgresJobStore(url: url, logger: logger, defaultQuotas: configuration.quotas)
            } else {
                engine = try SQLiteJobStore(path: root.appendingPathComponent("atelier.sqlite").path,
                                            durability: configuration.durability, defaultQuotas: configuration.quotas)
            }
        } catch {
            await blobs.shutdown()
            throw error
        }
        do {
            // One log, one key: a node configured with another key must not start signing.
            let pinned = try await engine.ledger.pinLedgerKey(ledgerSigner.verifier.encoded, now: Date())
            guard pinned == ledgerSigner.verifier.encoded else {
                throw LedgerError("this node's ledger key (\(ledgerSigner.verifier.encoded)) is not the key the ledger is "
                    + "signed with (\(pinned)); give every node the same ATELIER_LEDGER_KEY")
            }
        } catch {
            await engine.shutdown()
            await blobs.shutdown()
            throw error
        }
        return AtelierServer(configuration: configuration, engine: engine, blobs: blobs, signingKey: signingKey,
                             ledgerSigner: ledgerSigner, planning: planning, adminKey: adminKey, adminKeyWasCreated: created,
                             logger: logger)
    }

    private init(configuration: ServerConfiguration, engine: any JobStore, blobs: any BlobStore, signingKey: Data,
                 ledgerSigner: NoteSigner, planning: PlanningConfiguration, adminKey: String, adminKeyWasCreated: Bool,
                 logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.adminKey = adminKey
        self.adminKeyWasCreated = adminKeyWasCreated
        let metrics = APIMetrics()
        let store = ObservedJobStore(engine, metrics: metrics)
        let clock = SystemWallClock()
        let pricing = configuration.pricing
        let ffmpeg = FFmpeg.locate(environment: configuration.environment)
        self.ffmpeg = ffmpeg
        let ffprobe = FFprobe.locate(besides: ffmpeg, searchPath: configuration.environment["PATH"])
        self.ffprobe = ffprobe
        services = APIServices(
            store: store,
            submissions: EnqueueCoalescer(store: store, clock: clock),
            blobs: blobs,
            auth: Authenticator(store: store, adminKey: adminKey),
            signer: URLSigner(secret: signingKey, lifetime: configuration.signedURLLifetime),
            json: JSONIO(bodyLimit: configuration.jsonBodyLimit),
            clock: clock, ids: IDGenerator(clock: clock), pricing: pricing, catalog: .builtin,
            workers: WorkerRegistry(), metrics: metrics, lease: LeasePolicy(duration: configuration.leaseDuration), retry: RetryPolicy(),
            publicURL: configuration.publicURL, uploadLimit: configuration.uploadLimit,
            ledger: LedgerSequencer(origin: configuration.ledgerOrigin, signer: ledgerSigner,
                                    modelVersion: { [catalog = ModelCatalog.builtin] in catalog.version(of: $0) }),
            planning: PlanningService(
                chain: PlannerChain(planning.links),
                cache: PlanCache(capacity: planning.cacheSize, timeToLive: planning.cacheTimeToLive),
                screen: ContentScreen(policy: planning.policy, moderation: planning.moderation),
                // /v1/parse names no model: its estimates are the built-in model's prices.
                estimator: PlanCostEstimator(costModel: pricing.costModel(for: .builtin))
            ),
            // Only this process's own workers need ffmpeg; remote workers bring their own.
            videoPoolDisabled: ffmpeg == nil && configuration.workers > 0,
            mediaInspector: ffmpeg.flatMap { ffmpeg in ffprobe.map { MediaInspector(ffmpeg: ffmpeg, ffprobe: $0) } },
            jobDocuments: store.writeGeneration.map { JobDocumentCache(writes: $0) }
        )
        if services.videoPoolDisabled {
            logger.warning("ffmpeg was not found, so the video pool is disabled: films, GIF loops and video jobs are refused; \(FFmpeg.missingAdvice)")
        }
    }

    /// The router with every route of the API; `routes` lists them as the OpenAPI document names them.
    public func makeRouter() -> (router: Router<APIRequestContext>, routes: [RouteTable<APIRequestContext>.Route]) {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
        router.add(middleware: ProblemMiddleware())
        if !configuration.rateLimits.isOff {
            router.add(middleware: RateLimitMiddleware(limits: configuration.rateLimits, limiter: RateLimiter()))
        }
        let table = RouteTable(router: router)
        table.addMetaRoutes(services, openAPIDocument: ByteBuffer(bytes: Self.openAPIDocument))
        table.addAdminRoutes(services)
        table.addCreditRoutes(services)
        table.addJobRoutes(services)
        table.addArtifactRoutes(services)
        table.addWorkerRoutes(services)
        table.addLedgerRoutes(services)
        table.addPlanningRoutes(services)
        table.addUploadRoutes(services)
        table.addStudioRoutes(.bundled)
        return (router, table.routes)
    }

    /// The OpenAPI document shipped with the server.
    public static var openAPIDocument: Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let data = try? Data(contentsOf: url) else { return Data("openapi: 3.1.0\n".utf8) }
        return data
    }

    /// The services of the platform, in start order; shutdown runs in reverse, so the HTTP
    /// server stops accepting first, then workers drain, then maintenance stops.
    public func makeServices(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        // First in, last out: the store and blob store close after everything that uses them.
        var services: [any Service] = [
            StorageService(store: self.services.store, blobs: self.services.blobs),
            StoreMaintenance(store: self.services.store, clock: self.services.clock, logger: logger),
            // Stops after the workers and the HTTP server, so its last pass takes their completions.
            LedgerSequencerService(store: self.services.store.ledger, sequencer: self.services.ledger,
                                   clock: self.services.clock, interval: configuration.ledgerInterval, logger: logger),
        ]
        if configuration.workers > 0 {
            let slots = [PoolName.image: configuration.workers, .video: max(1, configuration.workers / 2)]
            for pool in self.services.videoPoolDisabled ? [PoolName.image] : [PoolName.image, .video] {
                let worker = WorkerID(rawValue: "embedded-\(pool)")!
                let workerConfiguration = WorkerConfiguration(worker: worker, pool: pool, slots: slots[pool]!,
                                                              lease: self.services.lease, retry: self.services.retry,
                                                              shutdownGrace: configuration.shutdownGrace,
                                                              leaseAhead: configuration.leaseAhead)
                let source = LocalWorkSource(store: self.services.store, blobs: self.services.blobs, worker: worker,
                                             lease: self.services.lease, retry: self.services.retry, clock: self.services.clock)
                services.append(WorkerPool(source: RegisteredWorkSource(base: source, registry: self.services.workers, worker: worker),
                                           backend: BuiltinBackend(ffmpeg: ffmpeg, ffprobe: ffprobe, scratch: configuration.scratchDirectory), configuration: workerConfiguration,
                                           clock: self.services.clock, logger: logger))
            }
        }
        let (router, _) = makeRouter()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Atelier"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        services.append(application)
        return services
    }

    /// Runs until SIGTERM or SIGINT (or cancellation), then shuts down gracefully.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(configuration: .init(
            services: makeServices(onListening: onListening).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        logger.info("stopped cleanly")
    }
}

/// Marks an in-process worker as online whenever it asks for work or renews a lease.
struct RegisteredWorkSource: WorkSource {
    let base: LocalWorkSource
    let registry: WorkerRegistry
    let worker: WorkerID

    func lease(_ request: WorkRequest, wait: Duration) async throws -> [Lease] {
        registry.saw(worker, pool: request.pool, at: Date())
        return try await base.lease(request, wait: wait)
    }

    func heartbeat(_ token: LeaseToken, progress: Double) async throws -> HeartbeatOutcome {
        try await base.heartbeat(token, progress: progress)
    }

    func complete(_ lease: Lease, outputs: [BackendOutput], thenLease next: WorkRequest) async throws
        -> (outcome: CompletionOutcome, leases: [Lease]) {
        registry.saw(worker, pool: next.pool, at: Date())
        return try await base.complete(lease, outputs: outputs, thenLease: next)
    }

    func fail(_ lease: Lease, error: JobError, isRetryable: Bool) async throws -> FailureOutcome {
        try await base.fail(lease, error: error, isRetryable: isRetryable)
    }

    func release(_ token: LeaseToken) async throws -> Bool { try await base.release(token) }

    func sceneClips(of lease: Lease) async throws -> [Data] { try await base.sceneClips(of: lease) }

    func interruptWaits(pool: PoolName) { base.interruptWaits(pool: pool) }
}
