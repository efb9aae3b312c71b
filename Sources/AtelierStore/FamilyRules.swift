import AtelierCore

/// How a parent job that waits for its children (a film and its scene jobs) follows them. Both
/// engines apply these rules in the transaction that ends a child, so a film is released,
/// failed or cancelled exactly once, whichever node or worker ended the child.
///
/// - every child succeeded: the parent becomes ready, as the compose step;
/// - a child failed for good (its retries used up, or a final failure): the parent fails with
///   an error that names the scene, and the other children are cancelled;
/// - a child was cancelled: the parent is cancelled, and the other children with it;
/// - otherwise the parent's progress is the children's mean, scaled to `scenesShare`.
enum FamilyRules {
    /// The share of a film's progress that its scenes make; composing makes the rest.
    static let scenesShare = 0.9

    struct Child {
        var state: String
        var scene: Int?
        var progress: Double
        var error: JobError?
    }

    enum Verdict: Equatable {
        case release
        case fail(JobError)
        case cancel
        case progress(Double)
    }

    static func verdict(_ children: [Child]) -> Verdict {
        if let failed = children.filter({ $0.state == "failed" }).min(by: { ($0.scene ?? .max) < ($1.scene ?? .max) }) {
            return .fail(.sceneFailed(scene: failed.scene, cause: failed.error))
        }
        if children.contains(where: { $0.state == "canceled" }) { return .cancel }
        if children.allSatisfy({ $0.state == "succeeded" }) { return .release }
        let mean = children.map { $0.state == "succeeded" ? 1 : min(1, max(0, $0.progress)) }.reduce(0, +) / Double(children.count)
        return .progress(mean * scenesShare)
    }
}
