import AtelierCore
import Foundation

/// Typed access to the columns of a result row, so one decoder serves every engine's rows
/// (GRDB rows and raw statements for SQLite, postgres-nio rows for PostgreSQL).
protocol ColumnReader {
    func text(_ column: Int32) -> String?
    func integer(_ column: Int32) -> Int64?
    func real(_ column: Int32) -> Double?
}

/// Mapping between rows and domain values, shared by the engines: both schemas use the same
/// column names and store times as integer microseconds since 1970.
enum StoredRows {
    static let jobColumns = """
        id, creator_id, kind, pool, model, prompt, negative_prompt, width, height, seed, format, frames, fps,
        steps, priority, cost, state, attempt, max_attempts, progress, error_code, error_message, created_at,
        started_at, finished_at, available_at, cancel_requested, parent_id, idempotency_key, lease_holder,
        lease_expires_at, lease_fence, scenes, transition, preview, scene_index, plan, charged
        """

    /// How many columns `jobColumns` names (the index of a column selected after them).
    static let jobColumnCount = jobColumns.split(separator: ",").count

    /// Index of `state` in `jobColumns`.
    static let stateColumn = 16

    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    static func date(_ micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    static func optionalDate(_ micros: Int64?) -> Date? {
        micros.map { date($0) }
    }

    /// The public status of a stored state: a job waiting out a retry backoff is still queued,
    /// and a film waiting for its scene jobs (`blocked`) is in production.
    static func status(_ state: String) -> JobStatus {
        switch state {
        case "waiting": .queued
        case "blocked": .running
        default: JobStatus(rawValue: state) ?? .failed
        }
    }

    /// Decodes a row selected with `jobColumns`, returning the job and its lease fence.
    ///
    /// Rows come from this store, which wrote them from validated values, so identifiers and
    /// enumerations parse; the fallbacks only keep a damaged file from crashing a read.
    static func job(_ row: some ColumnReader) -> (job: Job, fence: Int64) {
        func text(_ column: Int32) -> String { row.text(column) ?? "" }
        func int(_ column: Int32) -> Int { Int(row.integer(column) ?? 0) }
        let errorCode = row.text(20)
        let job = Job(
            id: JobID(rawValue: text(0)) ?? JobID(rawValue: "invalid")!,
            creatorID: CreatorID(rawValue: text(1)) ?? CreatorID(rawValue: "invalid")!,
            kind: JobKind(rawValue: text(2)) ?? .image,
            pool: PoolName(rawValue: text(3)) ?? .image,
            model: ModelID(rawValue: text(4)) ?? .builtin,
            prompt: text(5),
            negativePrompt: row.text(6),
            params: JobParams(
                width: int(7), height: int(8), seed: UInt32(truncatingIfNeeded: row.integer(9) ?? 0),
                format: OutputFormat(rawValue: text(10)) ?? .png, frames: int(11), fps: int(12), steps: int(13),
                scenes: int(32), transition: row.text(33), preview: int(34) != 0, scene: row.integer(35).map { Int($0) },
                plan: row.text(36).flatMap(JSONValue.init(parsing:))
            ),
            priority: int(14),
            cost: int(15),
            status: status(text(Int32(stateColumn))),
            attempt: int(17),
            maxAttempts: int(18),
            progress: row.real(19) ?? 0,
            error: errorCode.map { JobError(code: $0, message: row.text(21) ?? "") },
            createdAt: date(row.integer(22) ?? 0),
            startedAt: optionalDate(row.integer(23)),
            finishedAt: optionalDate(row.integer(24)),
            availableAt: date(row.integer(25) ?? 0),
            isCancelRequested: int(26) != 0,
            parentID: row.text(27).flatMap(JobID.init(rawValue:)),
            idempotencyKey: row.text(28),
            leaseHolder: row.text(29).flatMap(WorkerID.init(rawValue:)),
            leaseExpiresAt: optionalDate(row.integer(30)),
            charged: row.integer(37).map { Int($0) }
        )
        return (job, row.integer(31) ?? 0)
    }

    static let uploadColumns = """
        id, creator_id, kind, content_type, bytes, sha256, width, height, duration_ms, features, storage_key, created_at
        """

    static func upload(_ row: some ColumnReader) -> Upload {
        let features = row.text(9).flatMap { try? JSONDecoder().decode(ReferenceFeatures.self, from: Data($0.utf8)) }
        return Upload(
            id: UploadID(rawValue: row.text(0) ?? "") ?? UploadID(rawValue: "invalid")!,
            creatorID: CreatorID(rawValue: row.text(1) ?? "") ?? CreatorID(rawValue: "invalid")!,
            kind: Upload.Kind(rawValue: row.text(2) ?? "") ?? .image,
            contentType: row.text(3) ?? "", byteCount: Int(row.integer(4) ?? 0), sha256: row.text(5) ?? "",
            width: Int(row.integer(6) ?? 0), height: Int(row.integer(7) ?? 0),
            durationS: row.integer(8).map { Double($0) / 1000 },
            features: features ?? ReferenceFeatures(palette: [], brightness: 0.5, motion: nil),
            storageKey: row.text(10) ?? "", createdAt: date(row.integer(11) ?? 0)
        )
    }

    /// The features as stored: compact JSON.
    static func featuresJSON(_ features: ReferenceFeatures) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(features)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static let creditTransactionColumns = "id, creator_id, kind, amount, job_id, actor, reason, created_at"

    static func creditTransaction(_ row: some ColumnReader) -> CreditTransaction {
        CreditTransaction(
            id: row.integer(0) ?? 0, creatorID: CreatorID(rawValue: row.text(1) ?? "") ?? CreatorID(rawValue: "invalid")!,
            kind: CreditTransaction.Kind(rawValue: row.text(2) ?? "") ?? .adjustment, amount: Int(row.integer(3) ?? 0),
            jobID: row.text(4).flatMap(JobID.init(rawValue:)), actor: row.text(5) ?? "", reason: row.text(6),
            createdAt: date(row.integer(7) ?? 0))
    }

    static let artifactColumns = "id, job_id, name, content_type, bytes, sha256, storage_key, created_at"

    static func artifact(_ row: some ColumnReader) -> Artifact {
        Artifact(
            id: ArtifactID(rawValue: row.text(0) ?? "") ?? ArtifactID(rawValue: "invalid")!,
            jobID: JobID(rawValue: row.text(1) ?? "") ?? JobID(rawValue: "invalid")!,
            name: row.text(2) ?? "", contentType: row.text(3) ?? "", byteCount: Int(row.integer(4) ?? 0),
            sha256: row.text(5) ?? "", storageKey: row.text(6) ?? "", createdAt: date(row.integer(7) ?? 0)
        )
    }

    static let creatorColumns = "id, name, weight, credits, created_at, reserved, max_queued, max_running, max_daily_credits"

    static func creator(_ row: some ColumnReader) -> Creator {
        Creator(id: CreatorID(rawValue: row.text(0) ?? "") ?? CreatorID(rawValue: "invalid")!, name: row.text(1) ?? "",
                weight: Int(row.integer(2) ?? 1), credits: Int(row.integer(3) ?? 0), reservedCredits: Int(row.integer(5) ?? 0),
                quotas: Quotas(maxQueuedJobs: row.integer(6).map { Int($0) }, maxRunningJobs: row.integer(7).map { Int($0) },
                               maxDailyCredits: row.integer(8).map { Int($0) }),
                createdAt: date(row.integer(4) ?? 0))
    }
}
