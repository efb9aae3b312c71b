import AtelierCore
import Foundation
import Testing

@Suite struct JobRequestTests {
    let creator = CreatorID(rawValue: "alice")!
    let id = JobID(rawValue: "job-1")!

    @Test func defaultsArePricedAndRouted() throws {
        let image = try JobRequest(kind: .image, prompt: "a red fox").validated(id: id, creator: creator, costModel: CostModel())
        #expect(image.pool == .image && image.model == .builtin && image.params.format == .png)
        #expect(image.cost == 2)  // 512×512 = 0.26 MP at 4 credits/MP, rounded up
        let video = try JobRequest(kind: .video, prompt: "waves").validated(id: id, creator: creator, costModel: CostModel())
        #expect(video.pool == .video && video.params.format == .gif)
        #expect(video.cost == Int((0.512 * 0.288 * 24 * 4).rounded(.up)))
    }

    static let invalid: [(JobRequest, String)] = [
        (JobRequest(kind: .image, prompt: "   "), "prompt"),
        (JobRequest(kind: .image, prompt: String(repeating: "a", count: 4_001)), "prompt"),
        (JobRequest(kind: .image, prompt: "x", model: "../../etc"), "model"),
        (JobRequest(kind: .image, prompt: "x", params: JobParams(width: 63)), "params.width"),
        (JobRequest(kind: .image, prompt: "x", params: JobParams(height: 4_097)), "params.height"),
        (JobRequest(kind: .video, prompt: "x", params: JobParams(format: .png)), "params.format"),
        (JobRequest(kind: .image, prompt: "x", params: JobParams(format: .gif, frames: 1)), "params.frames"),
        (JobRequest(kind: .image, prompt: "x", params: JobParams(format: .gif, fps: 0)), "params.fps"),
        (JobRequest(kind: .image, prompt: "x", params: JobParams(steps: 0)), "params.steps"),
        (JobRequest(kind: .image, prompt: "x", priority: 101), "priority"),
        (JobRequest(kind: .image, prompt: "x", pool: "no/slash"), "pool"),
        (JobRequest(kind: .image, prompt: "x", maxAttempts: 0), "max_attempts"),
        (JobRequest(kind: .image, prompt: "x", idempotencyKey: "has space"), "idempotency_key"),
    ]

    @Test(arguments: invalid)
    func invalidRequestsNameTheField(request: JobRequest, field: String) {
        #expect {
            _ = try request.validated(id: id, creator: creator, costModel: CostModel())
        } throws: { error in
            (error as? ValidationError)?.field == field
        }
    }

    @Test(arguments: [(64, 64, 1), (512, 512, 2), (1024, 1024, 5), (4096, 4096, 68)])
    func costGrowsWithPixels(width: Int, height: Int, credits: Int) {
        #expect(CostModel().cost(of: JobParams(width: width, height: height)) == credits)
    }

    @Test func creatorRulesAreChecked() {
        #expect(throws: ValidationError.self) { try Creator.validate(name: " alice", weight: 1) }
        #expect(throws: ValidationError.self) { try Creator.validate(name: "alice", weight: 0) }
        #expect(throws: Never.self) { try Creator.validate(name: "alice", weight: 4) }
    }
}
