import AtelierCore
import AtelierStore
import AtelierWire
import Foundation
import Hummingbird
import NIOCore

/// Health, the model catalog, the caller, the contract and the metrics.
extension RouteTable {
    func addMetaRoutes(_ services: APIServices, openAPIDocument: ByteBuffer) {
        add(.get, "/v1/health") { _, _ in
            try services.json.response(HealthResource(status: "ok"))
        }
        add(.get, "/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: openAPIDocument))
        }
        add(.get, "/metrics") { _, _ in
            let text = try await services.metrics.render(store: services.store, workers: services.workers, now: services.clock.now)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        add(.get, "/v1/models") { request, _ in
            _ = try await services.auth.authenticate(request)
            return try services.json.response(ListBody(data: services.catalog.models))
        }
        add(.get, "/v1/me") { request, _ in
            guard case .creator(let id) = try await services.auth.require(request, .creator) else {
                throw APIProblem.forbidden("only creators have a profile")
            }
            guard let creator = try await services.store.creator(id: id) else { throw APIProblem.notFound("the creator") }
            let day = QuotaRules.day(of: services.clock.now)
            let spent = try await services.store.creditsSpentToday(by: id, now: services.clock.now)
            return try services.json.response(CreatorResource(
                creator, defaults: services.store.defaultQuotas, usage: UsageBody(creditsSpentToday: spent, resetsAt: day.next)))
        }
    }
}
