public import AtelierCore
public import AtelierBlobs
public import AtelierStore
import AtelierWorker
public import Foundation

/// How `atelier serve` runs: built once from flags, then the environment, then defaults.
public struct ServerConfiguration: Sendable {
    /// Holds the database, the blobs, `admin.key` and `signing.key`.
    public var dataDirectory: URL
    public var host: String
    /// 0 picks a free port (tests); the bound port is reported through `onListening`.
    public var port: Int
    /// Built-in worker slots for the image pool; the video pool gets half as many (at least one).
    /// 0 runs no workers in the process: only remote workers do the work.
    public var workers: Int
    /// The admin key (`ATELIER_ADMIN_KEY`); when nil one is kept in `<data-dir>/admin.key`.
    public var adminKey: String?
    /// Base of absolute links such as signed artifact URLs (`ATELIER_PUBLIC_URL`); by default
    /// the Host header the client used.
    public var publicURL: String?
    /// `postgres://user[:password]@host[:port]/database` (`--database`, `ATELIER_DATABASE_URL`);
    /// nil keeps the embedded SQLite file in the data directory.
    public var databaseURL: String?
    /// Where artifact bytes live (`--storage`, `ATELIER_STORAGE`); files in the data directory by default.
    public var storage: StorageLocation
    /// The secret that signs artifact URLs (`ATELIER_SIGNING_KEY`, at least 32 characters); when
    /// nil one is kept in `<data-dir>/signing.key`. Nodes sharing a database must share it.
    public var signingKey: String?
    /// The ledger's checkpoint origin and signing key name (`ATELIER_LEDGER_ORIGIN`).
    public var ledgerOrigin: String = "atelier.local/ledger"
    /// The ledger's Ed25519 signer key in signed-note form (`ATELIER_LEDGER_KEY`, `PRIVATE+KEY+…`);
    /// when nil one is kept in `<data-dir>/ledger.key`. Nodes sharing a database must share it.
    public var ledgerKey: String?
    /// How often the ledger sequencer looks for new entries.
    public var ledgerInterval: Duration = .milliseconds(250)
    /// Where S3 credentials and endpoint are read (`AWS_*`, `ATELIER_S3_*`).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    public var durability: SQLiteJobStore.Durability
    /// Running jobs get this long to finish at shutdown before their leases are handed back.
    public var shutdownGrace: Duration
    /// In-process worker slots lease jobs shorter than this one ahead (`WorkerConfiguration.leaseAhead`).
    public var leaseAhead: Duration = WorkerConfiguration.defaultLeaseAhead
    /// How long signed artifact URLs work.
    public var signedURLLifetime: TimeInterval
    /// How long a lease lasts without a heartbeat; a dead worker's job is retried after this.
    public var leaseDuration: TimeInterval
    /// Largest JSON request body.
    public var jsonBodyLimit: Int
    /// Largest artifact a remote worker may upload.
    public var uploadLimit: Int
    /// The quotas of creators without their own (`--max-queued-jobs`, `--max-running-jobs`,
    /// `--max-daily-credits`); none by default.
    public var quotas: Quotas = .unlimited
    /// What each model's jobs cost (`ATELIER_PRICING`); by default 4 credits per megapixel.
    public var pricing = Pricing()
    /// Per-key and per-address rate limits (`--rate-limits`, `ATELIER_RATE_LIMITS`).
    public var rateLimits: RateLimits = .defaults
    /// Where in-process workers keep a film's clips while they make it.
    public var scratchDirectory: URL = FileManager.default.temporaryDirectory

    public init(dataDirectory: URL, host: String = "127.0.0.1", port: Int = 8080,
                workers: Int = ProcessInfo.processInfo.activeProcessorCount, adminKey: String? = nil,
                publicURL: String? = nil, databaseURL: String? = nil, storage: StorageLocation = .dataDirectory,
                signingKey: String? = nil, durability: SQLiteJobStore.Durability = .full,
                shutdownGrace: Duration = .seconds(10), signedURLLifetime: TimeInterval = 3600, leaseDuration: TimeInterval = 30,
                jsonBodyLimit: Int = 64 * 1024, uploadLimit: Int = 512 * 1024 * 1024) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.workers = workers
        self.adminKey = adminKey
        self.publicURL = publicURL
        self.databaseURL = databaseURL
        self.storage = storage
        self.signingKey = signingKey
        self.durability = durability
        self.shutdownGrace = shutdownGrace
        self.signedURLLifetime = signedURLLifetime
        self.leaseDuration = leaseDuration
        self.jsonBodyLimit = jsonBodyLimit
        self.uploadLimit = uploadLimit
    }
}

extension ServerConfiguration {
    /// Where the data lives, for the start-up line: never shows a password.
    public var describeStorage: String {
        let database: String
        if let databaseURL, let url = URLComponents(string: databaseURL) {
            database = "PostgreSQL \(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")\(url.path)"
        } else {
            database = "SQLite in \(dataDirectory.path)"
        }
        let blobs = switch storage {
        case .dataDirectory: "artifacts in \(dataDirectory.path)/blobs"
        case .s3(let bucket, let prefix): "artifacts in s3://\(bucket)\(prefix.isEmpty ? "" : "/" + prefix)"
        }
        return "\(database), \(blobs)"
    }
}
