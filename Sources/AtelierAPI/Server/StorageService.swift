import AtelierBlobs
import AtelierStore
import ServiceLifecycle

/// Holds the store and the blob store open for the life of the service group and closes them
/// when it shuts down (it is started first, so it stops last).
struct StorageService: Service {
    let store: any JobStore
    let blobs: any BlobStore

    func run() async throws {
        try? await gracefulShutdown()
        await blobs.shutdown()
        await store.shutdown()
    }
}
