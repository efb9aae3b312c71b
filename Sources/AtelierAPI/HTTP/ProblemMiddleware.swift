import AtelierBlobs
import AtelierStore
import AtelierWire
public import Hummingbird
import Logging
import NIOCore

/// Makes every error an `application/problem+json` response: the API's own problems pass
/// through, Hummingbird's (unknown route, body too large) are translated, an unreachable
/// database or object store is a 503 with `Retry-After`, and anything else
/// is logged and answered with a 500 that reveals nothing.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as APIProblem {
            throw problem
        } catch let error as StoreError where error.code == .unavailable {
            throw APIProblem(.serviceUnavailable, slug: "database-unavailable", title: "The database is unavailable",
                             detail: "the server cannot reach its database right now; nothing was changed, try again shortly",
                             headers: [.retryAfter: "2"])
        } catch let error as BlobError where error.reason == .io {
            context.logger.warning("blob store failed", metadata: ["error": "\(error)"])
            throw APIProblem(.serviceUnavailable, slug: "storage-unavailable", title: "Artifact storage is unavailable",
                             detail: "the server cannot reach its artifact storage right now; try again shortly",
                             headers: [.retryAfter: "5"])
        } catch is NIOTooManyBytesError {
            throw APIProblem(.contentTooLarge, slug: "body-too-large", title: "The request body is too large",
                             detail: "the body exceeds this endpoint's limit; see the API reference for sizes")
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                throw APIProblem(.notFound, slug: "not-found", title: "Not found",
                                 detail: "no route matches \(request.method) \(request.uri.path)")
            case .methodNotAllowed:
                throw APIProblem(.methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
                                 detail: "\(request.method) is not supported on \(request.uri.path)")
            default:
                throw APIProblem(error.status, slug: "http-\(error.status.code)", title: error.status.reasonPhrase,
                                 detail: error.body ?? error.status.reasonPhrase)
            }
        } catch let error as any HTTPResponseError where error.status.code < 500 {
            throw APIProblem(error.status, slug: "http-\(error.status.code)", title: error.status.reasonPhrase,
                             detail: "\(error)")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIProblem(.internalServerError, slug: "internal-error", title: "Internal error",
                             detail: "the server could not complete the request; it has been logged")
        }
    }
}
