// Gallery: finished work as a grid of previews and a detail view with the settings, timings,
// cost, downloads, "use these settings again" and the provenance receipt checked here.
import { ApiError, sleep } from "./api.js";
import { $, el, formatDuration, formatNumber, secondsBetween, shortPrompt } from "./dom.js";
import { verifyReceipt } from "./provenance.js";

const pageSize = 24;

function artifact(job, ...names) {
  for (const name of names) {
    const found = job.artifacts.find((a) => (name instanceof RegExp ? name.test(a.name) : a.name === name));
    if (found) return found;
  }
  return null;
}

// The still or loop that stands for the job in the grid.
function thumbnail(job) {
  return artifact(job, "preview.gif", "poster.png", /\.(png|gif)$/);
}

function film(job) {
  return artifact(job, /\.(mp4|webm)$/);
}

export class GalleryView {
  constructor(studio) {
    this.studio = studio;
    this.cursor = null;
    this.jobs = new Map();
    this.detail = null;       // AbortController of the open detail's receipt check
    this.ledgerKey = null;
    $("#gallery-more").addEventListener("click", () => this.load(false));
    $("#detail").addEventListener("close", () => this.detail?.abort());
    $("#detail-reuse").addEventListener("click", () => {
      const job = this.jobs.get($("#detail").dataset.id);
      $("#detail").close();
      if (!job) return;
      this.studio.views.compose.fill(job);
      location.hash = "#compose";
    });
  }

  enter() {
    this.load(true);
  }

  async load(fresh) {
    try {
      const query = `/v1/jobs?status=succeeded&limit=${pageSize}` + (!fresh && this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : "");
      const page = await this.studio.api.get(query);
      const jobs = page.data.filter((job) => !job.parent_id);
      if (fresh) { this.jobs.clear(); $("#gallery-grid").replaceChildren(); }
      for (const job of jobs) this.jobs.set(job.id, job);
      $("#gallery-grid").append(...jobs.map((job) => this.card(job)));
      this.cursor = page.next_cursor ?? null;
      $("#gallery-more").hidden = !this.cursor;
      $("#gallery-empty").hidden = this.jobs.size > 0;
      $("#gallery-error").textContent = "";
    } catch (error) {
      $("#gallery-error").textContent = error.message;
    }
  }

  card(job) {
    const still = thumbnail(job);
    const label = shortPrompt(job.prompt, 60);
    return el("li", { class: "card", dataset: { id: job.id } },
      el("button", { type: "button", class: "thumb", "aria-label": `Open ${label}`, onclick: () => this.open(job.id) },
        still ? el("img", { src: still.url, alt: job.prompt, loading: "lazy", width: job.params.width, height: job.params.height })
              : el("span", { class: "placeholder", text: job.params.format.toUpperCase() }),
        film(job) ? el("span", { class: "badge", text: "film" }) : job.params.format === "gif" ? el("span", { class: "badge", text: "loop" }) : null),
      el("p", { class: "caption", text: label }));
  }

  async open(id) {
    let job = this.jobs.get(id);
    const dialog = $("#detail");
    dialog.dataset.id = id;
    try {
      // Fresh signed URLs, whatever the age of the list.
      job = await this.studio.api.get(`/v1/jobs/${encodeURIComponent(id)}`);
      this.jobs.set(id, job);
    } catch (error) {
      $("#gallery-error").textContent = error.message;
      return;
    }
    $("#detail-title").textContent = shortPrompt(job.prompt, 80);
    const movie = film(job);
    const poster = artifact(job, "poster.png");
    const still = artifact(job, /\.(png|gif)$/);
    $("#detail-media").replaceChildren(movie
      ? el("video", { src: movie.url, poster: poster?.url, controls: true, preload: "metadata", playsinline: true,
                      "aria-label": `Film: ${shortPrompt(job.prompt, 60)}` })
      : still ? el("img", { src: still.url, alt: job.prompt }) : el("p", { class: "note", text: "No preview." }));
    const p = job.params;
    const facts = [
      ["Prompt", job.prompt],
      ["Negative prompt", job.negative_prompt || "–"],
      ["Model", job.model],
      ["Kind", `${job.kind} · ${p.format}`],
      ["Size", `${p.width}×${p.height}`],
      ["Seed", String(p.seed)],
      p.format !== "png" ? ["Frames", `${p.frames} at ${p.fps} fps`] : null,
      p.duration_s ? ["Duration", `${p.duration_s} s${p.scenes ? `, ${p.scenes} scenes` : ""}`] : null,
      ["Waited", formatDuration(secondsBetween(job.created_at, job.started_at))],
      ["Ran", formatDuration(secondsBetween(job.started_at, job.finished_at))],
      ["Cost", `${formatNumber(job.charged ?? job.cost)} credits`],
      ["Finished", new Date(job.finished_at).toLocaleString()],
    ].filter(Boolean);
    $("#detail-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
    $("#detail-downloads").replaceChildren(...job.artifacts.map((a) =>
      el("a", { href: a.url, download: a.name, class: "button" }, `Download ${a.name}`,
         el("span", { class: "hint", text: ` (${formatNumber(Math.ceil(a.bytes / 1024))} KB)` }))));
    if (!dialog.open) dialog.showModal();
    this.checkReceipt(job);
  }

  // Fetches the receipt (waiting while it is being sequenced, about a second after success)
  // and checks it here.
  async checkReceipt(job) {
    this.detail?.abort();
    const controller = new AbortController();
    this.detail = controller;
    const status = $("#receipt-status");
    const steps = $("#receipt-steps");
    status.className = "receipt";
    status.textContent = "Checking…";
    steps.replaceChildren();
    try {
      let receipt = null;
      for (let attempt = 0; attempt < 20 && !receipt; attempt++) {
        try {
          receipt = await this.studio.api.get(`/v1/jobs/${encodeURIComponent(job.id)}/provenance`);
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 409) throw error;
          status.textContent = "The receipt is being recorded…";
          await sleep((error.retryAfter ?? 1) * 1000, controller.signal);
          if (controller.signal.aborted) return;
        }
      }
      if (!receipt) throw new Error("The receipt is not ready yet; open the details again in a moment.");
      this.ledgerKey ??= (await this.studio.api.get("/v1/ledger/key")).trim();
      const result = await verifyReceipt(receipt, this.ledgerKey, job);
      if (controller.signal.aborted) return;
      status.className = `receipt ${result.verified ? "verified" : "unverified"}`;
      status.textContent = result.verified
        ? `Verified: entry #${receipt.leaf_index} of the signed log of ${receipt.tree_size}, files match.`
        : "Not verified: a check below failed.";
      steps.replaceChildren(...result.steps.map((s) =>
        el("li", { class: s.ok ? "ok" : "failed" }, el("strong", { text: `${s.ok ? "✓" : "✗"} ${s.name}` }), ` ${s.detail}`)));
    } catch (error) {
      if (controller.signal.aborted) return;
      status.className = "receipt unverified";
      status.textContent = error.message;
    }
  }
}
