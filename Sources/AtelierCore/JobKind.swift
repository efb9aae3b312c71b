/// What a job produces.
public enum JobKind: String, Sendable, Codable, CaseIterable {
    case image
    case video
}

/// The public life cycle of a job.
///
/// ```
/// queued ──lease──▶ running ──complete──▶ succeeded
///   ▲  │              │ ├──fail (retryable, attempts left) / lease expired──▶ queued
///   │  │              │ ├──fail (final) / attempts exhausted──▶ failed
///   │  └──cancel──▶ canceled ◀──cancel acknowledged / expired while cancelling──┘
/// ```
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case running
    case succeeded
    case failed
    case canceled

    /// Whether the job can no longer change.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .canceled: true
        }
    }
}

/// Why a job failed or an attempt was abandoned: a stable machine-readable code and a sentence.
public struct JobError: Sendable, Hashable, Codable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public static func leaseExpired(attempts: Int) -> JobError {
        JobError(code: "lease_expired", message: "the worker stopped renewing its lease; \(attempts) attempt(s) used")
    }

    /// A film's error when one of its scene jobs failed for good: names the scene and its cause.
    public static func sceneFailed(scene: Int?, cause: JobError?) -> JobError {
        let which = scene.map { "scene \($0)" } ?? "a scene"
        let why = cause.map { ": \($0.code): \($0.message)" } ?? ""
        return JobError(code: "scene_failed", message: String("\(which) of the film failed\(why)".prefix(2000)))
    }
}
