public import AtelierCore
public import AtelierStore
public import Hummingbird
import AtelierWire
import Synchronization

/// Turns `Authorization: Bearer <key>` into a `Principal` and enforces roles.
///
/// Keys never change once issued, so resolved hashes are cached; unknown keys are not cached,
/// so a key created a moment ago works at once.
public final class Authenticator: Sendable {
    let store: any JobStore
    private let adminKeyHash: [UInt8]
    private let cache = Mutex<[String: Principal]>([:])

    public init(store: any JobStore, adminKey: String) {
        self.store = store
        self.adminKeyHash = Array(APIKey.hash(adminKey).utf8)
    }

    /// The caller, who must hold one of `roles`.
    public func require(_ request: Request, _ roles: Role...) async throws -> Principal {
        let principal = try await authenticate(request)
        guard roles.contains(principal.role) else {
            throw APIProblem.forbidden("this endpoint needs a key with role \(roles.map(\.rawValue).joined(separator: " or ")); yours is \(principal.role.rawValue)")
        }
        return principal
    }

    /// The caller whatever its role; 401 when the key is missing or unknown.
    public func authenticate(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization] else {
            throw APIProblem.unauthorized("send your API key as 'Authorization: Bearer <key>'")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].utf8.count <= 256 else {
            throw APIProblem.unauthorized("the Authorization header must be 'Bearer <key>'")
        }
        let hash = APIKey.hash(String(parts[1]))
        if APIKey.constantTimeEquals(Array(hash.utf8), adminKeyHash) { return .admin }
        if let known = cache.withLock({ $0[hash] }) { return known }
        guard let principal = try await store.principal(keyHash: hash) else {
            throw APIProblem.unauthorized("the API key is not valid")
        }
        cache.withLock { $0[hash] = principal }
        return principal
    }
}
