public import AtelierCore
public import AtelierStore
import Foundation

/// Where a film's compose step finds its scenes: the clip artifact of each of its scene jobs.
public enum SceneClips {
    /// The clip artifacts of `film`'s scene jobs, in scene order; empty when the film has no
    /// scene jobs. Throws when a scene job has not succeeded or left no clip: the film was
    /// released too early or damaged, and composing it would be wrong.
    public static func artifacts(of film: Job, store: any JobStore) async throws -> [(scene: Int, clip: Artifact)] {
        var clips: [(scene: Int, clip: Artifact)] = []
        for child in try await store.children(of: film.id) {
            guard let scene = child.params.scene else { continue }
            let name = FilmMaker.sceneClipName(scene)
            guard child.status == .succeeded,
                  let clip = try await store.artifacts(of: child.id).first(where: { $0.name == name }) else {
                throw BackendError(code: "scene_clip_missing", message: "scene \(scene) (job \(child.id)) has no clip "
                    + "to compose (it is \(child.status.rawValue))", isRetryable: false)
            }
            clips.append((scene, clip))
        }
        return clips
    }
}
