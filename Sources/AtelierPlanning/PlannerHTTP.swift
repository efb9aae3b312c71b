import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// One JSON POST to a provider with a deadline; the answer's status and (bounded) body.
enum PlannerHTTP {
    static let answerLimit = 2 * 1024 * 1024

    static func post(url: String, headers: [(String, String)], body: Data,
                     timeout: Duration) async throws(PlannerFailure) -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(data: body))
        let milliseconds = Int64((timeout / .milliseconds(1)).rounded(.up))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(milliseconds))
            let data = try await response.body.collect(upTo: answerLimit)
            return (Int(response.status.code), Data(buffer: data))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw PlannerFailure(.timeout, "no answer within \(milliseconds) ms")
        } catch is CancellationError {
            throw PlannerFailure(.timeout, "no answer within \(milliseconds) ms")
        } catch {
            throw PlannerFailure(.transport, "\(url) could not be reached: \(error)")
        }
    }
}
