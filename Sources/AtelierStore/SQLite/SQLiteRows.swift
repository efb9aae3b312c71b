import AtelierCore
import Foundation
import GRDB

/// Mapping between rows and domain values. Times are stored as integer microseconds since 1970.
enum SQLiteRows {
    static let jobColumns = """
        id, creator_id, kind, pool, model, prompt, negative_prompt, width, height, seed, format, frames, fps,
        steps, priority, cost, state, attempt, max_attempts, progress, error_code, error_message, created_at,
        started_at, finished_at, available_at, cancel_requested, parent_id, idempotency_key, lease_holder,
        lease_expires_at, lease_fence
        """

    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    static func date(_ micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    static func optionalDate(_ micros: Int64?) -> Date? {
        micros.map { date($0) }
    }

    /// The public status of a stored state: a job waiting out a retry backoff is still queued.
    static func status(_ state: String) -> JobStatus {
        state == "waiting" ? .queued : JobStatus(rawValue: state) ?? .failed
    }

    /// Decodes a row selected with `jobColumns`, returning the job and its lease fence.
    static func job(_ row: Row) -> (job: Job, fence: Int64) {
        let errorCode: String? = row[20]
        let job = Job(
            id: JobID(rawValue: row[0])!,
            creatorID: CreatorID(rawValue: row[1])!,
            kind: JobKind(rawValue: row[2]) ?? .image,
            pool: PoolName(rawValue: row[3])!,
            model: ModelID(rawValue: row[4])!,
            prompt: row[5],
            negativePrompt: row[6],
            params: JobParams(
                width: row[7], height: row[8], seed: UInt32(truncatingIfNeeded: row[9] as Int64),
                format: OutputFormat(rawValue: row[10]) ?? .png, frames: row[11], fps: row[12], steps: row[13]
            ),
            priority: row[14],
            cost: row[15],
            status: status(row[16]),
            attempt: row[17],
            maxAttempts: row[18],
            progress: row[19],
            error: errorCode.map { JobError(code: $0, message: row[21] ?? "") },
            createdAt: date(row[22] as Int64),
            startedAt: optionalDate(row[23]),
            finishedAt: optionalDate(row[24]),
            availableAt: date(row[25] as Int64),
            isCancelRequested: row[26],
            parentID: (row[27] as String?).flatMap(JobID.init(rawValue:)),
            idempotencyKey: row[28],
            leaseHolder: (row[29] as String?).flatMap(WorkerID.init(rawValue:)),
            leaseExpiresAt: optionalDate(row[30])
        )
        return (job, row[31])
    }

    static let artifactColumns = "id, job_id, name, content_type, bytes, sha256, storage_key, created_at"

    static func artifact(_ row: Row) -> Artifact {
        Artifact(
            id: ArtifactID(rawValue: row[0])!, jobID: JobID(rawValue: row[1])!, name: row[2], contentType: row[3],
            byteCount: row[4], sha256: row[5], storageKey: row[6], createdAt: date(row[7] as Int64)
        )
    }

    static func creator(_ row: Row) -> Creator {
        Creator(id: CreatorID(rawValue: row[0])!, name: row[1], weight: row[2], createdAt: date(row[3] as Int64))
    }
}
