import AtelierWire
import Foundation
import Testing

@Suite("Bad input gets a problem document and changes nothing")
struct BadInputTests {
    /// Sends `body` to `POST /v1/jobs` and returns the problem, checking it is well formed.
    private func rejected(_ api: API, _ body: String, contentType: String? = "application/json",
                          status: Int, slug: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Problem? {
        let response = try await api.send(.POST, "/v1/jobs", body: Data(body.utf8), contentType: contentType)
        #expect(response.status == status, "\(body): \(response.text)", sourceLocation: sourceLocation)
        let problem = response.problem
        #expect(problem != nil, "not a problem document: \(response.text)", sourceLocation: sourceLocation)
        #expect(problem?.slug == slug, sourceLocation: sourceLocation)
        #expect(problem?.status == status, sourceLocation: sourceLocation)
        #expect(problem?.title.isEmpty == false, sourceLocation: sourceLocation)
        #expect(problem?.detail.isEmpty == false, sourceLocation: sourceLocation)
        return problem
    }

    @Test("malformed JSON is a 400 problem")
    func malformedJSON() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            for body in [#"{"kind": "image", "prompt": "#, "", "[1, 2", "not json at all"] {
                _ = try await rejected(alice, body, status: 400, slug: "malformed-json")
            }
            #expect(try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.isEmpty)
        }
    }

    @Test("wrong types and missing fields are 422 problems naming the field")
    func wrongTypes() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let cases: [(String, String)] = [
                (#"{"kind": "image", "prompt": 7}"#, "prompt"),
                (#"{"kind": "image"}"#, "prompt"),
                (#"{"kind": "sculpture", "prompt": "a fox"}"#, "kind"),
                (#"{"kind": "image", "prompt": "a fox", "params": {"width": "wide"}}"#, "params.width"),
                (#"{"kind": "image", "prompt": "a fox", "params": {"seed": -1}}"#, "params.seed"),
                (#"{"kind": "image", "prompt": "a fox", "priority": 1.5}"#, "priority"),
                (#"["kind", "image"]"#, "$"),
            ]
            for (body, field) in cases {
                let problem = try await rejected(alice, body, status: 422, slug: "validation-failed")
                #expect(problem?.errors?.first?.field == field, "\(body) → \(problem?.errors ?? [])")
            }
            #expect(try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.isEmpty)
        }
    }

    @Test("an unknown model and sizes out of range are 422 problems")
    func outOfRange() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let cases: [(String, String)] = [
                (#"{"kind": "image", "prompt": "a fox", "model": "sdxl-imaginary"}"#, "model"),
                (#"{"kind": "image", "prompt": "a fox", "params": {"width": 100000}}"#, "params.width"),
                (#"{"kind": "image", "prompt": "a fox", "params": {"height": 0}}"#, "params.height"),
                (#"{"kind": "image", "prompt": ""}"#, "prompt"),
                (#"{"kind": "image", "prompt": "a fox", "priority": 1000}"#, "priority"),
                (#"{"kind": "image", "prompt": "a fox", "params": {"format": "mp4"}}"#, "params.format"),
            ]
            for (body, field) in cases {
                let problem = try await rejected(alice, body, status: 422, slug: "validation-failed")
                #expect(problem?.errors?.first?.field == field, "\(body) → \(problem?.errors ?? [])")
            }
            let long = String(repeating: "fox ", count: 2000)
            let problem = try await rejected(alice, #"{"kind": "image", "prompt": "\#(long)"}"#, status: 422, slug: "validation-failed")
            #expect(problem?.errors?.first?.field == "prompt")
            #expect(try await alice.send(.GET, "/v1/jobs").decode(ListBody<JobResource>.self).data.isEmpty)
        }
    }

    @Test("an oversized body is a 413 problem and the wrong media type a 415 problem")
    func sizesAndMediaTypes() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let huge = #"{"kind": "image", "prompt": "\#(String(repeating: "a", count: 200_000))"}"#
            _ = try await rejected(alice, huge, status: 413, slug: "body-too-large")
            _ = try await rejected(alice, #"{"kind": "image", "prompt": "a fox"}"#, contentType: "text/plain",
                                   status: 415, slug: "unsupported-media-type")
            _ = try await rejected(alice, #"{"kind": "image", "prompt": "a fox"}"#, contentType: nil,
                                   status: 415, slug: "unsupported-media-type")
            // A charset parameter is fine.
            let ok = try await alice.send(.POST, "/v1/jobs", body: Data(#"{"kind": "image", "prompt": "a fox"}"#.utf8),
                                          contentType: "application/json; charset=utf-8")
            #expect(ok.status == 202)
        }
    }

    @Test("unknown routes and methods are problems too, never HTML or a 500")
    func unknownRoutes() async throws {
        try await withServer { server in
            let (alice, _) = try await server.creator()
            let missing = try await alice.send(.GET, "/v1/nothing-here")
            #expect(missing.status == 404)
            #expect(missing.problem?.slug == "not-found")
            let wrongMethod = try await alice.send(.DELETE, "/v1/jobs")
            #expect([404, 405].contains(wrongMethod.status))
            #expect(wrongMethod.problem != nil)
            let badID = try await alice.send(.GET, "/v1/jobs/..%2F..%2Fetc%2Fpasswd")
            #expect(badID.status == 404)
            #expect(badID.problem?.slug == "not-found")
        }
    }
}
