public import AtelierCore
public import Foundation

/// Something that can turn a leased job into files: the built-in renderer today; ComfyUI,
/// AUTOMATIC1111, OpenAI-compatible image APIs and Cog later.
///
/// A backend reports progress through the context and must stop promptly when its task is
/// cancelled (the job was cancelled, its lease was lost, or the worker is shutting down).
public protocol Backend: Sendable {
    /// The models this backend serves; workers lease only jobs for these.
    var models: Set<ModelID> { get }
    func run(_ job: Job, context: RunContext) async throws -> [BackendOutput]
}

/// What a running backend may tell the worker.
public struct RunContext: Sendable {
    private let progressSink: @Sendable (Double) -> Void
    private let sceneClipSource: @Sendable () async throws -> [Data]

    public init(reportProgress: @escaping @Sendable (Double) -> Void,
                sceneClips: @escaping @Sendable () async throws -> [Data] = { [] }) {
        self.progressSink = reportProgress
        self.sceneClipSource = sceneClips
    }

    /// For a film's compose step: the clips its scene jobs made, in scene order.
    public func sceneClips() async throws -> [Data] {
        try await sceneClipSource()
    }

    /// Records progress (0…1); it reaches the store with the next heartbeat.
    public func reportProgress(_ fraction: Double) {
        progressSink(fraction)
    }
}

/// One file a backend produced.
public struct BackendOutput: Sendable, Hashable {
    public var name: String
    public var contentType: String
    public var data: Data

    public init(name: String, contentType: String, data: Data) {
        self.name = name
        self.contentType = contentType
        self.data = data
    }
}

/// A backend failure that knows whether trying again could help.
public struct BackendError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    /// Transient trouble (a busy GPU, a dropped connection) is retryable; a bad prompt is not.
    public var isRetryable: Bool

    public init(code: String, message: String, isRetryable: Bool) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
    }

    public var description: String { "\(code): \(message)" }
}
