import Foundation
import Testing

/// The `atelier` binary run as a child process, its output captured in files (a pipe could
/// fill and stall it), for tests of the CLI, remote workers and the server's shutdown.
final class AtelierProcess: @unchecked Sendable {
    let process = Process()
    private let stdoutFile: URL
    private let stderrFile: URL

    /// The binary SwiftPM built beside the tests.
    static let binary: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../.build/debug").standardized,
        ]
        for directory in candidates {
            let file = directory.appendingPathComponent("atelier")
            if FileManager.default.isExecutableFile(atPath: file.path) { return file }
        }
        return candidates.last!.appendingPathComponent("atelier")
    }()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stdoutFile = directory.appendingPathComponent("stdout")
        stderrFile = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = Self.binary
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        // The child must not inherit a key or server from the developer's shell.
        merged["ATELIER_API_KEY"] = nil
        merged["ATELIER_SERVER"] = nil
        merged["ATELIER_ADMIN_KEY"] = nil
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Waits until stdout contains `text`; returns the output so far.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while !stdout.contains(text) {
            guard process.isRunning else { throw TimedOut(what: "process exited before printing \(text): \(stdout) \(stderr)") }
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "\(text) in output: \(stdout) \(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return stdout
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit (killing it after `timeout`) and returns its status.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(120)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                Issue.record("atelier \(process.arguments ?? []) did not exit in time; killing it")
                signal(SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Runs `atelier arguments…` to the end.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try AtelierProcess(arguments, environment: environment)
        let status = await child.waitForExit()
        return (status, child.stdout, child.stderr)
    }
}
