@testable import AtelierAPI
import AtelierCore
import AtelierPlanning
import AtelierWire
import Foundation
import Testing

/// Per-model pricing from ATELIER_PRICING: the same cost model prices /v1/parse, the 202 and
/// what the job reserves (and, on success, is charged).
@Suite struct PricingAPITests {
    @Test("ATELIER_PRICING is read per model over the defaults; what is wrong is named")
    func configuration() throws {
        let pricing = try Pricing(json: #"{"default": {"credits_per_megapixel": 2}, "builtin": {"credits_per_video_second": 20, "minimum": 3}}"#)
        #expect(pricing.defaultModel == CostModel(creditsPerMegapixel: 2))
        #expect(pricing.costModel(for: .builtin) == CostModel(creditsPerMegapixel: 4, creditsPerVideoSecond: 20, minimum: 3))
        for (json, words) in [("[1]", "JSON object"), (#"{"builtin": {"minimum": 0}}"#, "builtin.minimum"),
                              (#"{"no good": {}}"#, "is not a model id"),
                              (#"{"builtin": {"credits_per_megapixel": -1}}"#, "builtin.credits_per_megapixel")] {
            #expect {
                _ = try Pricing(json: json)
            } throws: { "\($0)".contains(words) }
        }
    }

    @Test("a model's price is the estimate /v1/parse gives, the 202's cost and the film's reservation")
    func oneModelPricesEverything() async throws {
        let pricing = try Pricing(json: #"{"builtin": {"credits_per_megapixel": 8, "credits_per_video_second": 20, "minimum": 2}}"#)
        try await withServer(configure: { $0.pricing = pricing }) { server in
            let (alice, _) = try await server.creator(credits: 10_000)
            #expect(try await alice.submit(smallImage()).cost == 2)  // 0.01 MP × 8 → the minimum
            #expect(try await alice.submit(CreateJobBody(kind: .image, prompt: "a fox",
                                                         params: ParamsBody(width: 512, height: 512))).cost == 3)  // 2.1 → 3

            let parsed = try await alice.send(.POST, "/v1/parse", json: PlanRequest(
                prompt: "A fox wakes at dawn. It hunts in the snow. It sleeps under the stars",
                options: PlanOptions(kind: "video", durationS: 6, aspect: "16:9"))).decode(PlanResult.self)
            let estimate = parsed.costEstimate
            let seconds = parsed.scenes.map { Double(Int(($0.durationS * Double(estimate.fps)).rounded())) / Double(estimate.fps) }
            #expect(estimate.perScene == seconds.map { Int(($0 * 0.9216 * 20).rounded(.up)) })
            let film = try await alice.submit(CreateJobBody(
                kind: .video, prompt: "A fox wakes at dawn. It hunts in the snow. It sleeps under the stars",
                params: ParamsBody(width: estimate.width, height: estimate.height, format: .mp4, fps: estimate.fps, durationS: 6),
                plan: try JSONValue(encoding: parsed)))
            #expect(film.cost == estimate.credits)
            let scenes = try await alice.send(.GET, "/v1/jobs?limit=10").decode(ListBody<JobResource>.self).data
                .filter { $0.parentID == film.id }.sorted { ($0.params.scene ?? 0) < ($1.params.scene ?? 0) }
            #expect(scenes.map(\.cost) == estimate.perScene)
            let me = try await alice.send(.GET, "/v1/me").decode(CreatorResource.self)
            #expect(me.credits.reserved == 2 + 3 + estimate.credits)
        }
    }

    @Test("POST /v1/jobs/estimate prices a body as POST /v1/jobs would, queues and holds nothing, and checks it the same way")
    func estimate() async throws {
        let pricing = try Pricing(json: #"{"builtin": {"credits_per_megapixel": 8, "credits_per_video_second": 20, "minimum": 2}}"#)
        try await withServer(configure: { $0.pricing = pricing }) { server in
            let (alice, _) = try await server.creator(credits: 10_000)
            let image = CreateJobBody(kind: .image, prompt: "a fox", params: ParamsBody(width: 512, height: 512))
            let prompt = "A fox wakes at dawn. It hunts in the snow. It sleeps under the stars"
            let film = CreateJobBody(kind: .video, prompt: prompt,
                                     params: ParamsBody(width: 640, height: 360, format: .mp4, durationS: 6, scenes: 3))
            var quoted: [Int] = []
            for body in [image, film] {
                let answer = try await alice.send(.POST, "/v1/jobs/estimate", json: body)
                #expect(answer.status == 200, "\(answer.text)")
                let estimate = try answer.decode(EstimateResource.self)
                #expect(estimate.available == 10_000, "an estimate holds nothing")
                quoted.append(estimate.cost)
                if body.kind == .video { #expect(estimate.scenes == 3 && estimate.width == 640) } else { #expect(estimate.scenes == nil) }
            }
            #expect(quoted[0] == 3)  // 0.26 MP × 8 = 2.1 → 3
            let listed = try await alice.send(.GET, "/v1/jobs?limit=10").decode(ListBody<JobResource>.self)
            #expect(listed.data.isEmpty, "an estimate queues nothing")
            // The submission reserves exactly what was quoted.
            #expect(try await alice.submit(image).cost == quoted[0])
            #expect(try await alice.submit(film).cost == quoted[1])
            let me = try await alice.send(.GET, "/v1/me").decode(CreatorResource.self)
            #expect(me.credits.reserved == quoted[0] + quoted[1])
            let after = try await alice.send(.POST, "/v1/jobs/estimate", json: image).decode(EstimateResource.self)
            #expect(after.available == 10_000 - quoted[0] - quoted[1])

            // Checked like a submission; only creators submit.
            let bad = try await alice.send(.POST, "/v1/jobs/estimate",
                                           json: CreateJobBody(kind: .image, prompt: "a fox", params: ParamsBody(width: 10)))
            #expect(bad.status == 422 && bad.problem?.errors?.first?.field == "params.width")
            #expect(try await server.admin.send(.POST, "/v1/jobs/estimate", json: image).status == 403)
        }
    }
}
