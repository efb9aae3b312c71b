import AtelierCore
import AtelierStore
import AtelierWire
import Foundation
import Hummingbird

/// Creators, worker machines and the queues, for the operator.
extension RouteTable {
    func addAdminRoutes(_ services: APIServices) {
        add(.post, "/v1/admin/creators") { request, _ in
            _ = try await services.auth.require(request, .admin)
            let body = try await services.json.decode(CreateCreatorBody.self, from: request)
            let weight = body.weight ?? 1
            let credits = body.credits ?? 0
            let quotas = body.quotas?.quotas ?? .unlimited
            try APIProblem.checking { () throws(ValidationError) in
                try Creator.validate(name: body.name, weight: weight, credits: credits)
                try Quotas.validate(quotas)
            }
            let creator = Creator(id: services.ids.creatorID(), name: body.name, weight: weight, credits: credits,
                                  quotas: quotas, createdAt: services.clock.now)
            let key = APIKey.generate(prefix: "creator")
            try await Self.insert(name: body.name) {
                try await services.store.createCreator(creator, keyHash: APIKey.hash(key))
            }
            return try services.json.response(CreatorResource(creator, defaults: services.store.defaultQuotas, apiKey: key),
                                              status: .created)
        }
        add(.get, "/v1/admin/creators") { request, _ in
            _ = try await services.auth.require(request, .admin)
            let creators = try await services.store.creators()
            let defaults = services.store.defaultQuotas
            return try services.json.response(ListBody(data: creators.map { CreatorResource($0, defaults: defaults) }))
        }
        add(.put, "/v1/admin/creators/{id}/quotas") { request, context in
            _ = try await services.auth.require(request, .admin)
            guard let id = context.parameters.get("id").flatMap(CreatorID.init(rawValue:)) else {
                throw APIProblem.notFound("the creator")
            }
            let quotas = try await services.json.decode(QuotasBody.self, from: request).quotas
            try APIProblem.checking { () throws(ValidationError) in try Quotas.validate(quotas) }
            do {
                let creator = try await services.store.setQuotas(quotas, of: id)
                return try services.json.response(CreatorResource(creator, defaults: services.store.defaultQuotas))
            } catch let error as StoreError where error.code == .unknownCreator {
                throw APIProblem.notFound("the creator")
            }
        }
        add(.post, "/v1/admin/workers") { request, _ in
            _ = try await services.auth.require(request, .admin)
            let body = try await services.json.decode(CreateWorkerBody.self, from: request)
            try APIProblem.checking { () throws(ValidationError) in try Worker.validate(name: body.name) }
            let worker = Worker(id: services.ids.workerID(), name: body.name, createdAt: services.clock.now)
            let key = APIKey.generate(prefix: "worker")
            try await Self.insert(name: body.name) {
                try await services.store.createWorker(worker, keyHash: APIKey.hash(key))
            }
            return try services.json.response(WorkerResource(worker, apiKey: key), status: .created)
        }
        add(.get, "/v1/admin/workers") { request, _ in
            _ = try await services.auth.require(request, .admin)
            let now = services.clock.now
            let workers = try await services.store.workers()
            return try services.json.response(ListBody(data: workers.map {
                WorkerResource($0, online: services.workers.isOnline($0.id, now: now))
            }))
        }
        add(.get, "/v1/admin/queues") { request, _ in
            _ = try await services.auth.require(request, .admin)
            let now = services.clock.now
            let names = Dictionary(uniqueKeysWithValues: try await services.store.creators().map { ($0.id, $0.name) })
            let online = services.workers.online(now: now)
            var pools: [PoolQueueResource] = []
            for pool in Set([PoolName.image, .video]).union(online.keys).sorted() {
                let summary = try await services.store.queueSummary(pool: pool)
                let oldest = summary.compactMap(\.oldestQueuedAt).min()
                pools.append(PoolQueueResource(
                    pool: pool.rawValue, queued: summary.reduce(0) { $0 + $1.queued },
                    running: summary.reduce(0) { $0 + $1.running },
                    oldestQueuedAgeSeconds: oldest.map { max(0, now.timeIntervalSince($0)) },
                    workersOnline: online[pool] ?? 0,
                    creators: summary.map {
                        CreatorQueueResource(
                            creatorID: $0.creatorID.rawValue, name: names[$0.creatorID] ?? "", queued: $0.queued,
                            running: $0.running, oldestQueuedAgeSeconds: $0.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) }
                        )
                    }
                ))
            }
            return try services.json.response(ListBody(data: pools))
        }
    }

    /// Runs an insert, turning a taken name into a 409.
    private static func insert(name: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as StoreError where error.code == .duplicateName {
            throw APIProblem.conflict(slug: "name-taken", title: "The name is taken", detail: "\(name) already exists; choose another name")
        }
    }
}
