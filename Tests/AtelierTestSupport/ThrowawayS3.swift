import Foundation

/// A real S3-compatible server for tests, on a free loopback port, stopped when the test process
/// exits. One of each kind per test process, with one bucket; tests keep apart by key prefix.
public final class ThrowawayS3: Sendable {
    public enum Kind: Sendable {
        /// moto in server mode with IAM authentication on: it checks the SigV4 signature of every
        /// header-signed request, but serves presigned URLs without looking at their signature.
        case moto
        /// nanio: also refuses a presigned URL that was tampered with or has expired, as S3 does.
        case checkingPresignedURLs

        var script: String {
            switch self {
            case .moto: "moto-s3-server.py"
            case .checkingPresignedURLs: "nanio-s3-server.py"
            }
        }
    }

    public struct Info: Decodable, Sendable {
        public var endpoint: String
        public var access_key_id: String
        public var secret_access_key: String
        public var bucket: String
        public var region: String
    }

    public let info: Info
    let pid: pid_t

    /// The server of this kind for this test process, started on first use.
    public static func shared(_ kind: Kind = .moto) async throws -> ThrowawayS3 {
        try await Starter.shared.server(kind)
    }

    private actor Starter {
        static let shared = Starter()
        private var started: [Kind: Task<ThrowawayS3, any Error>] = [:]

        func server(_ kind: Kind) async throws -> ThrowawayS3 {
            if let task = started[kind] { return try await task.value }
            let task = Task { try await ThrowawayS3.start(kind) }
            started[kind] = task
            return try await task.value
        }
    }

    private init(info: Info, pid: pid_t) {
        self.info = info
        self.pid = pid
    }

    /// The environment `atelier serve --storage s3://…` reads.
    public var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": info.access_key_id, "AWS_SECRET_ACCESS_KEY": info.secret_access_key,
         "AWS_REGION": info.region, "ATELIER_S3_ENDPOINT": info.endpoint]
    }

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/testing")

    private static func start(_ kind: Kind) async throws -> ThrowawayS3 {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("atelier-s3-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let infoFile = directory.appendingPathComponent("info.json")
        let log = directory.appendingPathComponent("server.log").path
        let script = scripts.appendingPathComponent(kind.script)
        let pid = try ChildProcess.spawn(["/usr/bin/env", "python3", script.path, infoFile.path], log: log)
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: infoFile.path) {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid || ContinuousClock.now > deadline {
                Foundation.kill(pid, SIGKILL)
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw FixtureUnavailable("\(kind.script) did not start (run ./scripts/install-dependencies --tests): "
                                         + String(output.suffix(2000)))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: infoFile))
        let server = ThrowawayS3(info: info, pid: pid)
        stopAtExit(server, directory: directory)
        return server
    }

    nonisolated(unsafe) private static var running: [(ThrowawayS3, URL)] = []

    private static func stopAtExit(_ server: ThrowawayS3, directory: URL) {
        running.append((server, directory))
        if running.count == 1 {
            atexit {
                for (server, directory) in ThrowawayS3.running {
                    Foundation.kill(server.pid, SIGTERM)
                    try? FileManager.default.removeItem(at: directory)
                }
            }
        }
    }
}
