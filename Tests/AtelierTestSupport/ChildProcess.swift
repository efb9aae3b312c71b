import Foundation

/// Child processes for test fixtures, started with posix_spawn and reaped with waitpid.
/// (Foundation's Process missed the exit of `runuser` here: `waitUntilExit` hung on a zombie.)
enum ChildProcess {
    /// Starts `argv` with stdin from /dev/null and stdout and stderr appended to `log`.
    static func spawn(_ argv: [String], log: String) throws -> pid_t {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process: a long-lived fixture that inherited the write end of
        // another test's pipe (ffprobe's stdout, say) kept that reader from ever seeing EOF —
        // a whole CI run hung on it.
        closeInheritedFiles(&actions)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw FixtureUnavailable("could not start \(argv[0]): error \(spawned)") }
        return pid
    }

    /// Closes every descriptor from 3 up in the child: glibc's `addclosefrom_np` (2.34+, not in
    /// Swift's Glibc module, hence looked up), else one close per descriptor open now.
    private static func closeInheritedFiles(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    /// Waits for the child to end; its exit code, or nil when a signal ended it.
    static func wait(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
    }
}

/// A test fixture (PostgreSQL, the S3 server) could not be started; says what is missing.
public struct FixtureUnavailable: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Runs one of the repository's helper scripts (`scripts/testing/NAME`) to its end.
public enum TestScript {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/testing")

    /// Its standard output, trimmed; throws with the output when it fails.
    public static func run(_ name: String, _ arguments: [String]) throws -> String {
        let log = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("atelier-script-\(UUID().uuidString)").path
        defer { unlink(log) }
        let code = ChildProcess.wait(try ChildProcess.spawn(["/usr/bin/env", "python3", directory.appendingPathComponent(name).path] + arguments, log: log))
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard code == 0 else { throw FixtureUnavailable("\(name) failed: \(output.suffix(2000))") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
