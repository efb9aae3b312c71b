import AtelierCore
import AtelierStore
import AtelierWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/jobs/{id}/events`: a server-sent event for every change of the job's state or
/// progress, starting with its current state and ending with its terminal one.
///
/// The stream watches the job's change signal, which the store decorator rings on every
/// transition; it re-reads the job when rung (and at least every `refresh`, which covers
/// transitions made by housekeeping) and sends an event only when something visible changed.
struct JobEventStream: Sendable {
    let services: APIServices
    let jobID: JobID
    let scope: AccessScope
    var refresh: Duration = .seconds(1)
    /// A comment line this often keeps proxies from closing an idle stream.
    var keepAlive: TimeInterval = 15

    func response() -> Response {
        let headers: HTTPFields = [
            .contentType: "text/event-stream",
            .cacheControl: "no-cache",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await stream(into: &writer)
            try await writer.finish(nil)
        })
    }

    private func stream(into writer: inout any ResponseBodyWriter) async throws {
        let signal = services.store.jobChanges
        signal.watch(jobID)
        defer { signal.unwatch(jobID) }
        let encoder = WireCoding.encoder()
        var last: JobEventResource?
        var sequence = 0
        var lastWrite = ContinuousClock.now
        while !Task.isCancelled {
            let ticket = signal.ticket(for: jobID)
            guard let job = try await services.store.job(id: jobID, scope: scope) else { return }
            let event = JobEventResource(
                id: job.id.rawValue, status: job.status, progress: job.progress, attempts: job.attempt,
                error: job.error.map { ErrorBody(code: $0.code, message: $0.message) }
            )
            if event != last {
                sequence += 1
                var text = "id: \(sequence)\nevent: job.\(job.status.rawValue)\ndata: "
                text += String(decoding: try encoder.encode(event), as: UTF8.self)
                text += "\n\n"
                try await writer.write(ByteBuffer(string: text))
                lastWrite = .now
                last = event
            }
            if job.status.isTerminal { return }
            if lastWrite.duration(to: .now) > .seconds(keepAlive) {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = .now
            }
            await signal.wait(ticket, timeout: refresh)
        }
    }
}
