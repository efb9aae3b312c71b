import AtelierLedger
import AtelierTestSupport
import AtelierWire
import Foundation
import Testing

/// The web studio end to end: a real server, a real remote worker process and a real headless
/// Chromium driven over WebDriver. Screenshots of the main views are saved as test output
/// (`test-output/studio/`, or `$ATELIER_TEST_OUTPUT/studio/`).
@Suite("Web studio in a browser")
struct StudioBrowserTests {
    static let screenshots: URL = {
        if let base = ProcessInfo.processInfo.environment["ATELIER_TEST_OUTPUT"] {
            return URL(fileURLWithPath: base).appendingPathComponent("studio")
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("test-output/studio")
    }()

    @Test("a creator signs in, prices and makes an image, cancels a queued job, watches the other finish, opens it with its receipt verified; an operator sees the queues and grants credits")
    func creatorAndOperator() async throws {
        // A ledger key whose base64 holds a "+", the field separator of the key's text form:
        // the page must split it as the verifier does (it once did not).
        var signer = try NoteSigner(name: "atelier.local/ledger")
        while !signer.verifier.encoded.split(separator: "+", maxSplits: 2)[2].contains("+") {
            signer = try NoteSigner(name: "atelier.local/ledger")
        }
        let ledgerKey = signer.encoded
        try await withServer(workers: 0, configure: { $0.ledgerKey = ledgerKey }) { server in
            let (alice, creator) = try await server.creator("alice", credits: 5_000)
            let (_, worker) = try await server.worker("gpu-box-1")
            let relay = try await LoopbackRelay.start(to: try #require(URLComponents(string: server.url)?.port))
            let browser = try await Browser.launch()
            var remote: AtelierProcess?
            do {
                try await journey(server: server, relay: relay, browser: browser, alice: alice, creator: creator) {
                    // The work starts only when the test says so: until then jobs stay queued.
                    let process = try AtelierProcess(["worker", "--server", server.url, "--pool", "image", "--slots", "1",
                                                      "--log-level", "error"], environment: ["ATELIER_API_KEY": worker.apiKey ?? ""])
                    remote = process
                }
            } catch {
                let console = (try? await browser.consoleLines()) ?? []
                Issue.record("\(error)\nthe browser's console:\n\(console.joined(separator: "\n"))")
                remote?.signal(SIGKILL)
                await browser.quit()
                await relay.stop()
                throw error
            }
            remote?.signal(SIGTERM)
            await remote?.waitForExit()
            await browser.quit()
            await relay.stop()
        }
    }

    /// The browser reaches the server through `relay`, which the test can cut.
    private func journey(server: TestServer, relay: LoopbackRelay, browser: Browser, alice: API, creator: CreatorResource,
                         startWorker: () throws -> Void) async throws {
        let shots = Self.screenshots
        try await browser.open("http://127.0.0.1:\(relay.port)/")

        // Signing in: a wrong key is explained, a creator's key opens Compose.
        try await signIn(browser, key: "atl_creator_not-a-real-key")
        try await browser.waitFor("the wrong key to be refused", "document.querySelector('#sign-in-error').textContent.includes('not accepted')")
        try await browser.screenshot(to: shots.appendingPathComponent("1-sign-in.png"))
        try await signIn(browser, key: creator.apiKey ?? "")
        try await browser.waitForElement("#view-compose #prompt")
        try await browser.waitFor("the header to name alice and her credits",
                                  "document.querySelector('#who').textContent.includes('alice · 5,000 credits')")

        // A first job, priced before it is sent; no worker runs yet, so it waits.
        try await browser.type("#prompt", "a lighthouse at dusk")
        try await browser.waitFor("a price", "document.querySelector('.estimate').ariaBusy === 'false' && /^[0-9,]+$/.test(document.querySelector('#cost').textContent)")
        try await browser.click("#submit")
        try await browser.waitForElement("#view-queue #queue-rows tr[data-status=queued]")
        let lighthouse = try await onlyJob(alice, prompt: "a lighthouse at dusk")

        // A second one at 1024×1024 with a chosen seed; the price shown is the price charged.
        try await browser.click("#nav a[data-view=compose]")
        try await browser.type("#prompt", "a red fox in fresh snow")
        try await browser.select("#size", value: "1024x1024")
        try await browser.click("#seed-random")
        try await browser.type("#seed", "7")
        try await browser.waitFor("the 1024×1024 price", "document.querySelector('.estimate').ariaBusy === 'false' && document.querySelector('#compose-note').textContent.startsWith('1024×1024')")
        let shownCost = Int(try await browser.text("#cost").replacingOccurrences(of: ",", with: ""))
        try await browser.screenshot(to: shots.appendingPathComponent("2-compose.png"))
        try await browser.click("#submit")
        let fox = try await waitForJob(alice, prompt: "a red fox in fresh snow")
        #expect(shownCost == fox.cost, "the page showed \(String(describing: shownCost)) credits; the job holds \(fox.cost)")
        #expect(fox.params.width == 1024 && fox.params.seed == 7)

        // The queue: both waiting, in the order they will be served among alice's jobs.
        try await browser.waitFor("two queued jobs", "document.querySelectorAll('#queue-rows tr[data-status=queued]').length === 2")
        #expect(try await browser.text("#queue-rows tr[data-id='\(lighthouse.id)'] .position") == "#1")
        #expect(try await browser.text("#queue-rows tr[data-id='\(fox.id)'] .position") == "#2")

        // Cancelling the queued lighthouse: nothing is charged for it.
        try await browser.click("#queue-rows tr[data-id='\(lighthouse.id)'] button.cancel")
        try await browser.waitFor("the lighthouse to be cancelled", "document.querySelector(\"#queue-rows tr[data-id='\(lighthouse.id)']\")?.dataset.status === 'canceled'")
        let cancelled = try await alice.job(lighthouse.id)
        #expect(cancelled.status == .canceled && cancelled.charged == 0)
        #expect(try await browser.text("#queue-rows tr[data-id='\(fox.id)'] .position") == "#1")
        try await browser.screenshot(to: shots.appendingPathComponent("3-queue.png"))

        // The operator sees alice's waiting job and what it holds (signing in from the keyboard).
        try await signOutAndIn(browser, key: TestServer.adminKey, pressingEnter: true)
        try await browser.waitForElement("#view-operators #creator-rows tr[data-creator='\(creator.id)']")
        try await browser.waitFor("alice's queued job in the image pool",
                                  "[...document.querySelectorAll('#queues table')].some(t => t.caption.textContent.startsWith('image') && t.querySelector(\"tr[data-creator='\(creator.id)'] td:nth-child(2)\")?.textContent === '1')")
        #expect(try await browser.text("#creator-rows tr[data-creator='\(creator.id)'] .reserved") == "\(fox.cost)")
        try await browser.screenshot(to: shots.appendingPathComponent("4-operators.png"))

        // Back as alice: a worker starts, and the queue follows the fox to the end live.
        try await signOutAndIn(browser, key: creator.apiKey ?? "")
        try await browser.click("#nav a[data-view=queue]")
        try await browser.waitForElement("#queue-rows tr[data-id='\(fox.id)']")

        // The connection drops: the row says so until its event stream is open again.
        let foxRow = "document.querySelector(\"#queue-rows tr[data-id='\(fox.id)']\")"
        try await browser.waitFor("the fox's stream to open", "\(foxRow)?.classList.contains('reconnecting') === false")
        await relay.down()
        try await browser.waitFor("the fox's stream to be lost", "\(foxRow)?.classList.contains('reconnecting')")
        try await browser.screenshot(to: shots.appendingPathComponent("3b-queue-reconnecting.png"))
        relay.up()
        try await browser.waitFor("the fox's stream to be back", "\(foxRow)?.classList.contains('reconnecting') === false")
        try startWorker()
        try await browser.waitFor("the fox to succeed", timeout: .seconds(90),
                                  "document.querySelector(\"#queue-rows tr[data-id='\(fox.id)']\")?.dataset.status === 'succeeded'")
        #expect(try await browser.text("#queue-rows tr[data-id='\(fox.id)'] .percent").contains("100%"))
        let done = try await alice.job(fox.id)
        #expect(done.status == .succeeded && done.charged == fox.cost)

        // The gallery shows the image itself; its details carry a receipt checked in the page.
        try await browser.click("#nav a[data-view=gallery]")
        try await browser.waitFor("the fox's image to load",
                                  "document.querySelector(\"#gallery-grid li[data-id='\(fox.id)'] img\")?.naturalWidth === 1024")
        try await browser.screenshot(to: shots.appendingPathComponent("5-gallery.png"))
        try await browser.click("#gallery-grid li[data-id='\(fox.id)'] button.thumb")
        try await browser.waitFor("the receipt to verify", timeout: .seconds(45), "document.querySelector('#receipt-status.verified')")
        #expect(try await browser.script("return document.querySelectorAll('#receipt-steps li.ok').length") as? Int == 6)
        let facts = try await browser.text("#detail-facts")
        #expect(facts.contains("a red fox in fresh snow") && facts.contains("1024×1024") && facts.contains("Seed\n7"))
        try await browser.screenshot(to: shots.appendingPathComponent("6-details.png"))

        // The checker is not a rubber stamp: one changed byte in the entry fails it.
        let tampered = try await browser.asyncScript("""
            const done = arguments[arguments.length - 1];
            (async () => {
              const { verifyReceipt } = await import('/studio/provenance.js');
              const headers = { Authorization: 'Bearer ' + sessionStorage.getItem('atelier.key') };
              const job = await (await fetch('/v1/jobs/' + arguments[0], { headers })).json();
              const receipt = await (await fetch('/v1/jobs/' + arguments[0] + '/provenance', { headers })).json();
              const key = (await (await fetch('/v1/ledger/key')).text()).trim();
              // The prompt is only hashed into the entry; its kind is there in the clear.
              const entry = atob(receipt.entry).replace('"kind":"image"', '"kind":"video"');
              if (entry === atob(receipt.entry)) return { error: 'the entry has no kind to change' };
              const honest = await verifyReceipt(receipt, key, job);
              const forged = await verifyReceipt({ ...receipt, entry: btoa(entry) }, key, job);
              return { honest: honest.verified, forged: forged.verified, failed: forged.steps.filter(s => !s.ok).map(s => s.name) };
            })().then(done, (e) => done({ error: String(e) }));
            """, [fox.id]) as? [String: Any]
        #expect(tampered?["honest"] as? Bool == true, "\(String(describing: tampered))")
        #expect(tampered?["forged"] as? Bool == false)
        #expect((tampered?["failed"] as? [String])?.contains("Leaf hash") == true)

        // "Use these settings again" brings them back to Compose.
        try await browser.click("#detail-reuse")
        try await browser.waitForElement("#view-compose #prompt")
        #expect(try await browser.script("return document.querySelector('#prompt').value") as? String == "a red fox in fresh snow")
        #expect(try await browser.script("return document.querySelector('#seed').value") as? String == "7")
        #expect(try await browser.script("return document.querySelector('#seed-random').checked") as? Bool == false)

        // A film: the planned scenes are shown, priced, before anything is submitted.
        try await browser.click("input[name=kind][value=video]")
        try await browser.waitFor("film formats", "document.querySelector('#format').value === 'mp4'")
        try await browser.select("#size", value: "640x360")
        try await browser.type("#duration", "8")
        try await browser.type("#scenes", "2")
        try await browser.type("#prompt", "A harbour at dawn. Gulls circle a lighthouse at night")
        try await browser.waitFor("a two-scene plan", timeout: .seconds(45),
                                  "document.querySelector('.estimate').ariaBusy === 'false' && document.querySelectorAll('#plan-scenes li').length === 2 && document.querySelector('#compose-note').textContent.startsWith('2 scenes')")
        try await browser.screenshot(to: shots.appendingPathComponent("7-compose-film.png"))
        let filmCost = Int(try await browser.text("#cost").replacingOccurrences(of: ",", with: ""))
        let quote = try await alice.send(.POST, "/v1/jobs/estimate", json: CreateJobBody(
            kind: .video, prompt: "A harbour at dawn. Gulls circle a lighthouse at night",
            params: ParamsBody(width: 640, height: 360, format: .mp4, durationS: 8, scenes: 2))).decode(EstimateResource.self)
        #expect(filmCost == quote.cost, "the page and the API price the same film alike")

        // Phone width and the dark theme.
        try await browser.resize(width: 390, height: 844)
        try await browser.click("#theme")
        try await browser.waitFor("the dark theme", "document.documentElement.dataset.theme === 'dark'")
        try await browser.screenshot(to: shots.appendingPathComponent("8-compose-phone-dark.png"))
        try await browser.click("#nav a[data-view=queue]")
        try await browser.waitForElement("#queue-rows tr[data-id='\(fox.id)']")
        try await browser.screenshot(to: shots.appendingPathComponent("9-queue-phone-dark.png"))
        try await browser.resize(width: 1280, height: 900)

        // Signing out forgets the key; the operator grants credits with a reason.
        try await signOutAndIn(browser, key: TestServer.adminKey)
        let row = "#creator-rows tr[data-creator='\(creator.id)']"
        try await browser.waitForElement("\(row) .amount")
        try await browser.waitFor("gpu-box-1 online", "[...document.querySelectorAll('#workers li.online')].some(li => li.textContent.includes('gpu-box-1'))")
        try await browser.type("\(row) .amount", "100")
        try await browser.type("\(row) .reason", "studio test")
        try await browser.click("\(row) .grant button")
        let balance = 5_000 - fox.cost + 100
        try await browser.waitFor("the new balance", "document.querySelector(\"\(row) .balance\").textContent === '\(balance.formatted(.number.locale(Locale(identifier: "en_US"))))'")
        let lines = try await server.admin.send(.GET, "/v1/admin/creators/\(creator.id)/transactions").decode(ListBody<CreditTransactionResource>.self)
        #expect(lines.data.first?.kind == "grant" && lines.data.first?.amount == 100 && lines.data.first?.reason == "studio test")
        try await browser.screenshot(to: shots.appendingPathComponent("10-operators-granted.png"))
    }

    private func signIn(_ browser: Browser, key: String, pressingEnter: Bool = false) async throws {
        try await browser.type("#api-key", key)
        if pressingEnter {
            try await browser.keys("#api-key", "\u{E007}")
        } else {
            try await browser.click("#sign-in-form button[type=submit]")
        }
    }

    private func signOutAndIn(_ browser: Browser, key: String, pressingEnter: Bool = false) async throws {
        try await browser.click("#sign-out")
        try await browser.waitForElement("#view-sign-in #api-key")
        #expect(try await browser.script("return sessionStorage.getItem('atelier.key')") == nil)
        try await signIn(browser, key: key, pressingEnter: pressingEnter)
    }

    /// The job of `prompt` the creator has (submitted through the page).
    private func waitForJob(_ api: API, prompt: String) async throws -> JobResource {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let page = try await api.send(.GET, "/v1/jobs?limit=50").decode(ListBody<JobResource>.self)
            if let job = page.data.first(where: { $0.prompt == prompt }) { return job }
            guard ContinuousClock.now < deadline else { throw Browser.Failure(description: "no job for \(prompt)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func onlyJob(_ api: API, prompt: String) async throws -> JobResource {
        let job = try await waitForJob(api, prompt: prompt)
        let page = try await api.send(.GET, "/v1/jobs?limit=50").decode(ListBody<JobResource>.self)
        #expect(page.data.filter { $0.prompt == prompt }.count == 1, "one press, one job")
        return job
    }
}
