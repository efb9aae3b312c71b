import NIOCore
import NIOPosix

/// Free TCP ports on the loopback interface, for the servers tests start (PostgreSQL,
/// chromedriver).
public enum LoopbackPort {
    /// A port that is free now and outside the kernel's ephemeral range (32768–60999 by
    /// default), so that no client connection of a busy test run takes it as its source port
    /// before the server binds it, or while a crashed server is down before its restart.
    public static func free() throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        for _ in 0..<100 {
            let candidate = Int.random(in: 15_000..<32_000)
            guard let channel = try? ServerBootstrap(group: group).bind(host: "127.0.0.1", port: candidate).wait() else { continue }
            try channel.close().wait()
            return candidate
        }
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        return port
    }
}
