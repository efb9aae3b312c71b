public import AtelierCore

/// Prices a plan with the scheduler's cost model: each scene is one job of its frames at the
/// plan's size (an image plan is one still). Composing the scenes is not charged.
public struct PlanCostEstimator: Sendable {
    public var costModel: CostModel

    public init(costModel: CostModel) {
        self.costModel = costModel
    }

    public func estimate(_ plan: Plan, fps: Int) -> CostEstimate {
        let size = Vocabulary.size(of: plan.creativeDirection.aspect) ?? (1280, 720)
        let isVideo = plan.creativeDirection.kind == JobKind.video.rawValue
        let frames = plan.scenes.map { isVideo ? max(1, Int(($0.durationS * Double(fps)).rounded())) : 1 }
        let format: OutputFormat = isVideo ? .mp4 : .png
        let perScene = frames.map { costModel.cost(width: size.width, height: size.height, frames: $0, fps: fps, format: format) }
        return CostEstimate(credits: perScene.reduce(0, +), perScene: perScene, width: size.width, height: size.height,
                            fps: isVideo ? fps : 0, frames: frames.reduce(0, +))
    }
}
