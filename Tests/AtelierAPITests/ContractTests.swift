import AtelierAPI
import AtelierStore
import Foundation
import Testing

@Suite("The OpenAPI document is the contract")
struct ContractTests {
    @Test("every route the server serves is in the document, and every documented operation is served")
    func routesAndDocumentAgree() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-contract-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await AtelierServer.open(configuration: ServerConfiguration(dataDirectory: directory, workers: 0, adminKey: "k"))
        let served = Set(server.makeRouter().routes.map { "\($0.method) \($0.path)" })
        await server.services.store.shutdown()
        let documented = Contract.shared.operations
        #expect(!served.isEmpty)
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
    }

    @Test("the document served at /openapi.yaml is the one in the repository")
    func servedDocument() async throws {
        try await withServer { server in
            let response = try await server.client(nil).send(.GET, "/openapi.yaml")
            #expect(response.status == 200)
            #expect(response.body == AtelierServer.openAPIDocument)
            #expect(response.text.hasPrefix("openapi: 3.1.0"))
        }
    }

    @Test("the schema checker rejects answers that break the document")
    func checkerCatchesDrift() {
        let job = Contract.shared.resolve("#/components/schemas/Job")
        let missing: [String: Any] = ["id": "x"]
        #expect(!Contract.shared.validate(missing, against: job, at: "$").isEmpty)
        let health = Contract.shared.resolve("#/components/schemas/Health")
        #expect(Contract.shared.validate(["status": "ok"], against: health, at: "$").isEmpty)
        #expect(!Contract.shared.validate(["status": "sick"], against: health, at: "$").isEmpty)
        #expect(!Contract.shared.validate(["status": 1], against: health, at: "$").isEmpty)
    }
}
