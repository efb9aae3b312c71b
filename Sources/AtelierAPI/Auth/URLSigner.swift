public import AtelierCore
import Crypto
public import Foundation

/// Signs artifact URLs so they can be fetched without an Authorization header until they
/// expire: `?expires=<unix seconds>&signature=<hex HMAC-SHA256 of "artifact id\nexpires">`.
public struct URLSigner: Sendable {
    private let key: SymmetricKey
    /// How long a signed URL works.
    public let lifetime: TimeInterval

    public init(secret: Data, lifetime: TimeInterval = 3600) {
        key = SymmetricKey(data: secret)
        self.lifetime = lifetime
    }

    public func signature(artifact: ArtifactID, expires: Int64) -> String {
        let message = Data("\(artifact.rawValue)\n\(expires)".utf8)
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// The query string of a URL for `artifact` signed at `now`, and when it expires.
    public func sign(_ artifact: ArtifactID, now: Date) -> (query: String, expires: Date) {
        let expires = Int64((now.timeIntervalSince1970 + lifetime).rounded(.up))
        return ("expires=\(expires)&signature=\(signature(artifact: artifact, expires: expires))",
                Date(timeIntervalSince1970: TimeInterval(expires)))
    }

    public enum Verdict: Sendable, Equatable {
        case valid
        case expired
        case invalid
    }

    /// Checks a signature in constant time, then its expiry.
    public func verify(_ artifact: ArtifactID, expires: String?, signature: String?, now: Date) -> Verdict {
        guard let expires, let seconds = Int64(expires), let signature else { return .invalid }
        let expected = self.signature(artifact: artifact, expires: seconds)
        guard APIKey.constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8)) else { return .invalid }
        return now.timeIntervalSince1970 < TimeInterval(seconds) ? .valid : .expired
    }
}
