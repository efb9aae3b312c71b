// Queue: the creator's unfinished jobs with live progress (server-sent events, reconnected
// after a drop), their place among the creator's waiting jobs, and cancel; then the last few
// to finish. A browser keeps about six connections per server, so only the first few jobs
// are streamed; the list itself is refreshed every few seconds.
import { $, el, formatNumber, shortPrompt, terminal } from "./dom.js";

const streamed = 4;
const refreshEvery = 3000;

export class QueueView {
  constructor(studio) {
    this.studio = studio;
    this.jobs = new Map();     // id → job (as last known)
    this.streams = new Map();  // id → AbortController
    this.lost = new Set();     // ids whose stream dropped and is not back yet
    this.timer = null;
    this.active = false;
  }

  enter() {
    this.active = true;
    this.refresh();
  }

  leave() {
    this.active = false;
    clearTimeout(this.timer);
    for (const controller of this.streams.values()) controller.abort();
    this.streams.clear();
    this.lost.clear();
  }

  async refresh() {
    clearTimeout(this.timer);
    if (!this.active) return;
    const api = this.studio.api;
    try {
      const [queued, running, recent] = await Promise.all([
        api.get("/v1/jobs?status=queued&limit=100"),
        api.get("/v1/jobs?status=running&limit=100"),
        api.get("/v1/jobs?limit=20"),
      ]);
      if (!this.active) return;
      // Scene jobs show through their film.
      const all = [...running.data, ...queued.data, ...recent.data].filter((job) => !job.parent_id);
      this.jobs = new Map(all.map((job) => [job.id, this.jobs.get(job.id)?.status === job.status ? { ...job, progress: Math.max(job.progress, this.jobs.get(job.id).progress) } : job]));
      $("#queue-error").textContent = "";
      this.render();
      this.follow();
    } catch (error) {
      $("#queue-error").textContent = error.message;
    }
    this.timer = setTimeout(() => this.refresh(), refreshEvery);
  }

  ordered() {
    const jobs = [...this.jobs.values()];
    const rank = { running: 0, queued: 1 };
    const unfinished = jobs.filter((job) => !terminal.has(job.status))
      .sort((a, b) => (rank[a.status] - rank[b.status]) || (b.priority - a.priority) || a.created_at.localeCompare(b.created_at));
    const finished = jobs.filter((job) => terminal.has(job.status))
      .sort((a, b) => (b.finished_at ?? "").localeCompare(a.finished_at ?? "")).slice(0, 8);
    return { unfinished, finished };
  }

  // Opens event streams for the first unfinished jobs and closes those no longer needed.
  follow() {
    const wanted = new Set(this.ordered().unfinished.slice(0, streamed).map((job) => job.id));
    for (const [id, controller] of this.streams) {
      if (!wanted.has(id)) { controller.abort(); this.streams.delete(id); this.lost.delete(id); }
    }
    for (const id of wanted) {
      if (this.streams.has(id)) continue;
      const controller = new AbortController();
      this.streams.set(id, controller);
      this.studio.api.followJob(id, (name, data) => this.update(id, data), controller.signal,
                                (connected) => this.connection(id, connected))
        .finally(() => {
          if (this.streams.get(id) !== controller) return;
          this.streams.delete(id);
          this.lost.delete(id);
        });
    }
  }

  update(id, event) {
    const job = this.jobs.get(id);
    if (!job) return;
    job.status = event.status;
    job.progress = event.progress;
    job.attempts = event.attempts;
    if (event.error) job.error = event.error;
    const row = document.querySelector(`#queue-rows tr[data-id="${CSS.escape(id)}"]`);
    if (row) row.replaceWith(this.row(job, this.positions().get(id)));
    if (terminal.has(event.status)) {
      this.studio.refreshMe();
      setTimeout(() => this.refresh(), 300);
    }
  }

  // A row says "reconnecting" from the moment its stream drops until it is open again, across
  // the list's refreshes.
  connection(id, connected) {
    if (connected) this.lost.delete(id); else this.lost.add(id);
    const row = document.querySelector(`#queue-rows tr[data-id="${CSS.escape(id)}"]`);
    row?.classList.toggle("reconnecting", !connected);
  }

  positions() {
    const waiting = this.ordered().unfinished.filter((job) => job.status === "queued");
    return new Map(waiting.map((job, index) => [job.id, index + 1]));
  }

  render() {
    const { unfinished, finished } = this.ordered();
    const positions = this.positions();
    const rows = [...unfinished, ...finished].map((job) => this.row(job, positions.get(job.id)));
    $("#queue-rows").replaceChildren(...rows);
    $("#queue-empty").hidden = unfinished.length > 0;
  }

  row(job, position) {
    const percent = Math.round((job.progress ?? 0) * 100);
    const cancellable = !terminal.has(job.status) && !job.cancel_requested;
    const status = job.cancel_requested && !terminal.has(job.status) ? "cancelling" : job.status;
    return el("tr", { dataset: { id: job.id, status: job.status }, class: this.lost.has(job.id) && "reconnecting" },
      el("td", { class: "prompt", title: job.prompt }, shortPrompt(job.prompt, 90),
         job.error ? el("div", { class: "error small", text: job.error.message }) : null),
      el("td", { text: `${job.kind} · ${job.params.format}` }),
      el("td", {}, el("span", { class: `status ${job.status}`, text: status })),
      el("td", {}, el("progress", { max: 100, value: percent, "aria-label": `Progress of ${shortPrompt(job.prompt, 40)}` }),
         el("span", { class: "percent", text: ` ${percent}%` })),
      el("td", { class: "position", text: position ? `#${position}` : "–" }),
      el("td", {}, cancellable
        ? el("button", { type: "button", class: "quiet cancel", "aria-label": `Cancel ${shortPrompt(job.prompt, 40)}`,
                         onclick: () => this.cancel(job.id) }, "Cancel")
        : job.charged !== null && job.charged !== undefined
          ? el("span", { class: "hint", text: `${formatNumber(job.charged)} credits` }) : null));
  }

  async cancel(id) {
    try {
      const job = await this.studio.api.post(`/v1/jobs/${encodeURIComponent(id)}/cancel`);
      this.jobs.set(id, job);
      this.render();
      this.studio.refreshMe();
    } catch (error) {
      $("#queue-error").textContent = error.message;
    }
  }
}
