import AtelierCore
import AtelierStore
import AtelierWire
import Foundation
import Hummingbird

/// Credits: the operator's grants and adjustments, and each creator's log.
extension RouteTable {
    func addCreditRoutes(_ services: APIServices) {
        add(.post, "/v1/admin/creators/{id}/credits") { request, context in
            _ = try await services.auth.require(request, .admin)
            let creatorID = try Self.creatorID(context)
            let body = try await services.json.decode(GrantCreditsBody.self, from: request)
            try APIProblem.checking { () throws(ValidationError) in
                try CreditChange.validate(amount: body.amount, reason: body.reason)
            }
            let change = CreditChange(creatorID: creatorID, amount: body.amount, actor: "admin", reason: body.reason)
            do {
                _ = try await services.store.adjustCredits(change, now: services.clock.now)
            } catch let error as StoreError where error.code == .unknownCreator {
                throw APIProblem.notFound("the creator")
            } catch let error as StoreError where error.code == .insufficientCredits {
                let available = error.credits?.available ?? 0
                throw APIProblem.validation([FieldError(
                    field: "amount",
                    message: "would take away credits that are spent or held: \(available) credits can be taken away now")])
            } catch let error as StoreError where error.code == .invalidArgument {
                throw APIProblem.validation([FieldError(field: "amount", message: error.message)])
            }
            guard let creator = try await services.store.creator(id: creatorID) else { throw APIProblem.notFound("the creator") }
            return try services.json.response(CreatorResource(creator, defaults: services.store.defaultQuotas))
        }
        add(.get, "/v1/admin/creators/{id}/transactions") { request, context in
            _ = try await services.auth.require(request, .admin)
            let creatorID = try Self.creatorID(context)
            guard try await services.store.creator(id: creatorID) != nil else { throw APIProblem.notFound("the creator") }
            return try await Self.transactions(of: creatorID, request, services: services)
        }
        add(.get, "/v1/me/transactions") { request, _ in
            guard case .creator(let creatorID) = try await services.auth.require(request, .creator) else {
                throw APIProblem.forbidden("only creators have a credit log")
            }
            return try await Self.transactions(of: creatorID, request, services: services)
        }
    }

    private static func creatorID(_ context: some RequestContext) throws -> CreatorID {
        guard let id = context.parameters.get("id").flatMap(CreatorID.init(rawValue:)) else {
            throw APIProblem.notFound("the creator")
        }
        return id
    }

    /// One page of a creator's credit log, newest first.
    private static func transactions(of creatorID: CreatorID, _ request: Request, services: APIServices) async throws
        -> Response
    {
        let parameters = request.uri.queryParameters
        var query = CreditTransactionQuery(
            creatorID: creatorID, limit: Int(try Self.integer(parameters["limit"], name: "limit", default: 20, range: 1...100)))
        if let cursor = parameters["cursor"] {
            query.cursor = try Self.integer(cursor, name: "cursor", default: nil, range: 1...Int64.max)
        }
        let page = try await services.store.creditTransactions(query)
        return try services.json.response(ListBody(
            data: page.transactions.map(CreditTransactionResource.init), nextCursor: page.nextCursor.map(String.init)))
    }
}
