import AtelierAPI
import AtelierWire
import Foundation
import Testing

@Suite("Keys, roles and the admin endpoints")
struct AuthAndAdminTests {
    @Test("a missing, malformed or unknown key is a 401 problem that says how to authenticate")
    func unauthenticated() async throws {
        try await withServer { server in
            for (key, detail) in [(nil, "Authorization: Bearer"), ("atl_creator_notARealKey", "not valid")] as [(String?, String)] {
                let response = try await server.client(key).send(.GET, "/v1/jobs")
                #expect(response.status == 401)
                #expect(response.headers.first(name: "WWW-Authenticate") == "Bearer")
                let problem = try #require(response.problem)
                #expect(problem.slug == "unauthorized")
                #expect(problem.status == 401)
                #expect(problem.detail.contains(detail), "\(problem.detail)")
            }
            let basic = try await server.client(nil).send(.GET, "/v1/me", headers: [("Authorization", "Basic dXNlcjpwYXNz")])
            #expect(basic.status == 401)
            #expect(basic.problem?.detail.contains("Bearer <key>") == true)
        }
    }

    @Test("each role reaches only its own endpoints")
    func wrongRole() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let (worker, _) = try await server.worker()

            let creatorAsAdmin = try await alice.send(.GET, "/v1/admin/creators")
            #expect(creatorAsAdmin.status == 403)
            #expect(creatorAsAdmin.problem?.slug == "forbidden")
            #expect(creatorAsAdmin.problem?.detail.contains("admin") == true)

            let workerSubmits = try await worker.send(.POST, "/v1/jobs", json: smallImage())
            #expect(workerSubmits.status == 403)
            let workerReadsJobs = try await worker.send(.GET, "/v1/jobs")
            #expect(workerReadsJobs.status == 403)

            let creatorLeases = try await alice.send(.POST, "/v1/worker/lease",
                                                    json: LeaseCallBody(pool: "image", models: ["builtin"], limit: 1, waitSeconds: 0))
            #expect(creatorLeases.status == 403)

            let adminSubmits = try await server.admin.send(.POST, "/v1/jobs", json: smallImage())
            #expect(adminSubmits.status == 403)
            let adminProfile = try await server.admin.send(.GET, "/v1/me")
            #expect(adminProfile.status == 403)
        }
    }

    @Test("an admin creates creators whose key is shown once and works at once")
    func creators() async throws {
        try await withServer { server in
            let created = try await server.admin.send(.POST, "/v1/admin/creators",
                                                      json: CreateCreatorBody(name: "alice", weight: 3, credits: 1000))
            #expect(created.status == 201)
            let alice = try created.decode(CreatorResource.self)
            #expect(alice.name == "alice")
            #expect(alice.weight == 3)
            #expect(alice.credits.balance == 1000 && alice.credits.reserved == 0 && alice.credits.available == 1000)
            let key = try #require(alice.apiKey)
            #expect(key.hasPrefix("atl_creator_"))

            let me = try await server.client(key).send(.GET, "/v1/me")
            #expect(me.status == 200)
            let profile = try me.decode(CreatorResource.self)
            #expect(profile.id == alice.id)
            #expect(profile.credits.available == 1000)
            #expect(profile.apiKey == nil)

            let duplicate = try await server.admin.send(.POST, "/v1/admin/creators", json: CreateCreatorBody(name: "alice"))
            #expect(duplicate.status == 409)
            #expect(duplicate.problem?.slug == "name-taken")

            _ = try await server.admin.send(.POST, "/v1/admin/creators", json: CreateCreatorBody(name: "bob"))
            let list = try await server.admin.send(.GET, "/v1/admin/creators")
            #expect(list.status == 200)
            let creators = try list.decode(ListBody<CreatorResource>.self).data
            #expect(Set(creators.map(\.name)) == ["alice", "bob"])
            #expect(creators.allSatisfy { $0.apiKey == nil }, "keys are shown once, at creation")
            #expect(!list.text.contains(key))

            // The key is stored only as a hash: the raw key appears nowhere in the database.
            var database = Data()
            for file in ["atelier.sqlite", "atelier.sqlite-wal"] {
                database += (try? Data(contentsOf: server.dataDirectory.appendingPathComponent(file))) ?? Data()
            }
            #expect(database.range(of: Data(key.utf8)) == nil)
            #expect(database.range(of: Data(APIKey.hash(key).utf8)) != nil)
        }
    }

    @Test("creator fields are validated with one message per field")
    func creatorValidation() async throws {
        try await withServer { server in
            let response = try await server.admin.send(.POST, "/v1/admin/creators",
                                                       body: Data(#"{"name": "", "weight": 0, "credits": -5}"#.utf8))
            #expect(response.status == 422)
            let problem = try #require(response.problem)
            #expect(problem.slug == "validation-failed")
            let fields = Set(problem.errors?.map(\.field) ?? [])
            #expect(fields.isSuperset(of: ["name"]), "\(fields)")
            let weight = try await server.admin.send(.POST, "/v1/admin/creators", body: Data(#"{"name": "w", "weight": 0}"#.utf8))
            #expect(weight.problem?.errors?.map(\.field) == ["weight"])
            let credits = try await server.admin.send(.POST, "/v1/admin/creators", body: Data(#"{"name": "c", "credits": -5}"#.utf8))
            #expect(credits.problem?.errors?.map(\.field) == ["credits"])
        }
    }

    @Test("an admin registers workers; their keys carry the worker role")
    func workers() async throws {
        try await withServer { server in
            let (_, worker) = try await server.worker("gpu-box-1")
            #expect(worker.name == "gpu-box-1")
            #expect(worker.apiKey?.hasPrefix("atl_worker_") == true)
            let list = try await server.admin.send(.GET, "/v1/admin/workers")
            #expect(list.status == 200)
            let workers = try list.decode(ListBody<WorkerResource>.self).data
            #expect(workers.map(\.id) == [worker.id])
            #expect(workers.first?.apiKey == nil)
            let duplicate = try await server.admin.send(.POST, "/v1/admin/workers", json: CreateWorkerBody(name: "gpu-box-1"))
            #expect(duplicate.status == 409)
        }
    }

    @Test("health, models and the Prometheus text need no key")
    func meta() async throws {
        try await withServer { server in
            let anonymous = server.client(nil)
            let health = try await anonymous.send(.GET, "/v1/health")
            #expect(try health.decode(HealthResource.self).status == "ok")

            let (alice, _) = try await server.creator()
            let models = try await alice.send(.GET, "/v1/models")
            #expect(models.status == 200)
            let builtin = try #require(try models.decode(ListBody<ModelResource>.self).data.first { $0.id == "builtin" })
            #expect(Set(builtin.kinds) == [.image, .video])
            #expect(try await anonymous.send(.GET, "/v1/models").status == 401)

            _ = try await alice.send(.GET, "/v1/jobs")
            _ = try await anonymous.send(.GET, "/v1/jobs")
            let metrics = try await anonymous.send(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
            let text = metrics.text
            #expect(text.contains(#"atelier_http_requests_total{method="GET",route="/v1/jobs",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"atelier_http_requests_total{method="GET",route="/v1/jobs",status="401"} 1"#))
            #expect(text.contains("atelier_http_request_duration_seconds_bucket"))
        }
    }
}
