import AsyncHTTPClient
import AtelierTestSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

/// A real headless Chromium driven by chromedriver over the W3C WebDriver protocol (plain JSON
/// over HTTP on loopback), for end-to-end tests of the web studio.
final class Browser: @unchecked Sendable {
    private let driver: Process
    private let driverURL: String
    private let session: String
    private let logFile: URL

    /// The element reference key of W3C WebDriver.
    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private init(driver: Process, driverURL: String, session: String, logFile: URL) {
        self.driver = driver
        self.driverURL = driverURL
        self.session = session
        self.logFile = logFile
    }

    /// Where Debian (and most distributions) install them; `./scripts/install-dependencies
    /// --tests` installs `chromium` and `chromium-driver` when missing.
    static func locate(_ names: [String]) -> String? {
        for name in names where FileManager.default.isExecutableFile(atPath: name) { return name }
        return nil
    }

    /// Starts chromedriver on a free loopback port and opens a headless browser session.
    static func launch(width: Int = 1280, height: Int = 900) async throws -> Browser {
        guard let chromedriver = locate(["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver", "/usr/local/bin/chromedriver"]),
              let chromium = locate(["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"])
        else {
            throw Failure(description: "chromium and chromedriver are needed (apt-get install -y chromium chromium-driver, "
                          + "or ./scripts/install-dependencies --tests)")
        }
        let port = try LoopbackPort.free()
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("chromedriver-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromedriver)
        process.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        process.standardOutput = try FileHandle(forWritingTo: logFile)
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        let driverURL = "http://127.0.0.1:\(port)"
        do {
            // Ready when /status says so.
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                if let status = try? await call(driverURL, .GET, "/status", nil),
                   (status["ready"] as? Bool) == true { break }
                guard ContinuousClock.now < deadline, process.isRunning else {
                    throw Failure(description: "chromedriver did not start: \((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
            let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
                "browserName": "chrome",
                "goog:loggingPrefs": ["browser": "ALL"],
                "goog:chromeOptions": [
                    "binary": chromium,
                    "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                             "--no-first-run", "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)"],
                ],
            ]]]
            let created = try await call(driverURL, .POST, "/session", capabilities)
            guard let session = created["sessionId"] as? String else {
                throw Failure(description: "chromedriver opened no session: \(created)")
            }
            return Browser(driver: process, driverURL: driverURL, session: session, logFile: logFile)
        } catch {
            process.terminate()
            throw error
        }
    }

    func quit() async {
        _ = try? await command(.DELETE, "")
        driver.terminate()
        for _ in 0..<100 where driver.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logFile)
    }

    // MARK: Commands

    func open(_ url: String) async throws {
        _ = try await command(.POST, "/url", ["url": url])
    }

    func resize(width: Int, height: Int) async throws {
        _ = try await command(.POST, "/window/rect", ["width": width, "height": height])
    }

    /// Runs JavaScript in the page and returns its result (JSON-shaped).
    @discardableResult
    func script(_ source: String, _ arguments: [Any] = []) async throws -> Any? {
        try await commandValue(.POST, "/execute/sync", ["script": source, "args": arguments])
    }

    /// Runs asynchronous JavaScript: the script ends by calling `arguments[arguments.length - 1]`
    /// with its result.
    func asyncScript(_ source: String, _ arguments: [Any] = []) async throws -> Any? {
        _ = try await command(.POST, "/timeouts", ["script": 30_000])
        return try await commandValue(.POST, "/execute/async", ["script": source, "args": arguments])
    }

    func element(_ selector: String) async throws -> String {
        let value = try await commandValue(.POST, "/element", ["using": "css selector", "value": selector])
        guard let found = value as? [String: Any], let id = found[Self.elementKey] as? String else {
            throw Failure(description: "no element \(selector)")
        }
        return id
    }

    /// Clicks what `selector` finds, as a person would (it must be visible and enabled).
    func click(_ selector: String) async throws {
        let id = try await waitForElement(selector)
        _ = try await command(.POST, "/element/\(id)/click", [:])
    }

    /// Chooses an option of a `<select>` by value, as picking it from the list does.
    func select(_ selector: String, value: String) async throws {
        try await waitForElement(selector)
        let chosen = try await script("""
            const select = document.querySelector(arguments[0]);
            if (![...select.options].some(o => o.value === arguments[1])) return false;
            select.focus();
            select.value = arguments[1];
            select.dispatchEvent(new Event('input', { bubbles: true }));
            select.dispatchEvent(new Event('change', { bubbles: true }));
            return true;
            """, [selector, value]) as? Bool
        guard chosen == true else { throw Failure(description: "\(selector) has no option \(value)") }
    }

    /// Types into a field, replacing what it held.
    func type(_ selector: String, _ text: String) async throws {
        let id = try await waitForElement(selector)
        _ = try await command(.POST, "/element/\(id)/clear", [:])
        _ = try await command(.POST, "/element/\(id)/value", ["text": text])
    }

    /// Sends keys (e.g. "\u{E007}" for Enter) to the focused element.
    func keys(_ selector: String, _ text: String) async throws {
        let id = try await waitForElement(selector)
        _ = try await command(.POST, "/element/\(id)/value", ["text": text])
    }

    /// The rendered text of what `selector` finds, read in one step (the page may replace the
    /// element at any moment).
    func text(_ selector: String) async throws -> String {
        guard let text = try await script("return document.querySelector(arguments[0])?.innerText ?? null", [selector]) as? String else {
            throw Failure(description: "no element \(selector)")
        }
        return text
    }

    /// What the page wrote to its console since the last call (errors included).
    func consoleLines() async throws -> [String] {
        let entries = try await commandValue(.POST, "/se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.map { "\($0["level"] ?? "") \($0["message"] ?? "")" }
    }

    /// Saves a PNG of the viewport.
    func screenshot(to file: URL) async throws {
        guard let encoded = try await commandValue(.GET, "/screenshot", nil) as? String,
              let data = Data(base64Encoded: encoded) else { throw Failure(description: "no screenshot") }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    /// Waits until `selector` finds a displayed element; returns it.
    @discardableResult
    func waitForElement(_ selector: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await waitUntil("\(selector) to be shown", timeout: timeout) {
            let shown = try await self.script("""
                const e = document.querySelector(arguments[0]);
                return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;
                """, [selector]) as? Bool
            return shown == true ? try await self.element(selector) : nil
        }
    }

    /// Polls `condition` (a JavaScript expression's truth) until it holds.
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ expression: String, _ arguments: [Any] = []) async throws {
        _ = try await waitUntil(what, timeout: timeout) {
            try await self.script("return !!(\(expression));", arguments) as? Bool == true ? true : nil
        }
    }

    private func waitUntil<T>(_ what: String, timeout: Duration, _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = try await probe() { return value }
            guard ContinuousClock.now < deadline else {
                let page = (try? await script("return document.body.innerText.slice(0, 2000)") as? String) ?? ""
                let console = (try? await consoleLines()) ?? []
                throw Failure(description: "timed out waiting for \(what); the page said:\n\(page)\nits console:\n"
                              + console.joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: Wire

    private func command(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        try await Self.call(driverURL, method, "/session/\(session)\(path)", body)
    }

    private func commandValue(_ method: HTTPMethod, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        let answer = try await Self.call(driverURL, method, "/session/\(session)\(path)", body, whole: true)
        return answer["value"].flatMap { $0 is NSNull ? nil : $0 }
    }

    /// One WebDriver call; answers are `{"value": …}`, errors `{"value": {"error", "message"}}`.
    private static func call(_ base: String, _ method: HTTPMethod, _ path: String, _ body: [String: Any]?,
                             whole: Bool = false) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 26))
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        if response.status.code >= 400 {
            let value = json["value"] as? [String: Any]
            throw Failure(description: "WebDriver \(method) \(path): \(value?["error"] ?? response.status.code): "
                          + "\(String(describing: value?["message"] ?? "").prefix(500))")
        }
        if whole { return json }
        return json["value"] as? [String: Any] ?? [:]
    }
}
