public import AtelierCore
import Foundation

/// How a film is queued: the film itself, waiting for its scenes, and one scene job per planned
/// scene — its children, of the same creator and pool, scheduled fairly like any job, so
/// scenes render in parallel on several workers. When the last scene job succeeds the film
/// becomes ready as the compose step (see `FamilyRules` in the store).
public enum SceneJobs {
    /// The film (first, marked as waiting for its children) followed by its scene jobs in scene
    /// order. A scene job carries the film's prompt and parameters plus the scene it renders,
    /// so it plans the same film and renders its own part of it; its cost is its scene's share,
    /// and the film costs what its scenes cost together (so the price `/v1/parse` quotes for a
    /// plan is the price the film reserves).
    public static func split(_ film: NewJob, costModel: CostModel, newID: () -> JobID) -> [NewJob] {
        let plan = FilmMaker.plan(for: Job(queued: film, at: Date()))
        var parent = film
        parent.waitsForChildren = true
        var jobs = [parent]
        for scene in plan.scenes {
            var params = film.params
            params.scene = scene.index
            let frames = max(1, Int((scene.durationS * Double(params.fps)).rounded()))
            jobs.append(NewJob(
                id: newID(), creatorID: film.creatorID, kind: film.kind, pool: film.pool, model: film.model,
                prompt: film.prompt, negativePrompt: film.negativePrompt, params: params, priority: film.priority,
                cost: costModel.cost(width: params.width, height: params.height, frames: frames, fps: params.fps,
                                     format: params.format, steps: params.steps),
                maxAttempts: film.maxAttempts, parentID: film.id
            ))
        }
        jobs[0].cost = max(1, jobs.dropFirst().reduce(0) { $0 + $1.cost })
        return jobs
    }
}
