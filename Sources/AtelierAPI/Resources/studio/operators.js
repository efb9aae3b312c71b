// Operators (admin key): live throughput and each creator's share of the running jobs, the
// queues per pool, creators with their credits (and a grant form), and the workers.
import { $, el, formatDuration, formatNumber, toast } from "./dom.js";
import { drawLine, drawShares, palette } from "./charts.js";

const every = 2000;
const kept = 150; // samples: 5 minutes

// Sums a Prometheus counter over its label sets.
function counterTotal(text, name) {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (isFinite(value)) total += value;
  }
  return total;
}

export class OperatorsView {
  constructor(studio) {
    this.studio = studio;
    this.samples = [];        // {at, finished, running: Map(name → count)}
    this.rows = new Map();    // creator id → table row
    this.colors = new Map();  // creator name → colour
    this.timer = null;
    this.active = false;
  }

  enter() {
    this.active = true;
    this.tick();
  }

  leave() {
    this.active = false;
    clearTimeout(this.timer);
  }

  async tick() {
    clearTimeout(this.timer);
    if (!this.active) return;
    const api = this.studio.api;
    try {
      const [queues, creators, workers, metrics] = await Promise.all([
        api.get("/v1/admin/queues"), api.get("/v1/admin/creators"), api.get("/v1/admin/workers"),
        fetch("/metrics").then((r) => (r.ok ? r.text() : "")).catch(() => ""),
      ]);
      if (!this.active) return;
      this.sample(queues.data, metrics);
      this.renderQueues(queues.data);
      this.renderCreators(creators.data);
      this.renderWorkers(workers.data);
      this.renderCharts(creators.data);
      $("#operators-error").textContent = "";
    } catch (error) {
      $("#operators-error").textContent = error.message;
    }
    this.timer = setTimeout(() => this.tick(), every);
  }

  sample(pools, metrics) {
    const running = new Map();
    for (const pool of pools) {
      for (const creator of pool.creators) running.set(creator.name, (running.get(creator.name) ?? 0) + creator.running);
    }
    this.samples.push({ at: performance.now(), finished: counterTotal(metrics, "atelier_jobs_finished_total"), running });
    if (this.samples.length > kept + 1) this.samples.shift();
  }

  color(name) {
    if (!this.colors.has(name)) this.colors.set(name, palette[this.colors.size % palette.length]);
    return this.colors.get(name);
  }

  renderCharts(creators) {
    const rates = [];
    for (let i = 1; i < this.samples.length; i++) {
      const seconds = (this.samples[i].at - this.samples[i - 1].at) / 1000;
      rates.push(Math.max(0, this.samples[i].finished - this.samples[i - 1].finished) / seconds);
    }
    drawLine($("#chart-throughput"), rates, kept, (v) => `${v.toFixed(v < 10 ? 1 : 0)}/s`);
    const names = [...new Set(this.samples.flatMap((s) => [...s.running.keys()]))];
    drawShares($("#chart-share"), this.samples.map((s) => s.running), names.map((n) => [n, this.color(n)]), kept);
    // Share of running-job samples over the window, beside the creator's weight.
    const weights = new Map(creators.map((c) => [c.name, c.weight]));
    const totals = new Map(names.map((n) => [n, 0]));
    let all = 0;
    for (const s of this.samples) for (const [n, c] of s.running) { totals.set(n, totals.get(n) + c); all += c; }
    $("#share-legend").replaceChildren(...names.map((name) =>
      el("li", {}, el("span", { class: "swatch", style: { background: this.color(name) } }),
         `${name}: ${all ? Math.round((totals.get(name) / all) * 100) : 0}% of running`,
         el("span", { class: "hint", text: ` (weight ${weights.get(name) ?? "?"})` }))));
  }

  renderQueues(pools) {
    $("#queues").replaceChildren(...pools.map((pool) =>
      el("table", { class: "queue", "aria-label": `Pool ${pool.pool}` },
        el("caption", {}, el("strong", { text: pool.pool }),
           ` · ${pool.queued} queued · ${pool.running} running · ${pool.workers_online} worker slots online`,
           pool.oldest_queued_age_seconds ? ` · oldest waiting ${formatDuration(pool.oldest_queued_age_seconds)}` : ""),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Creator" }), el("th", { scope: "col", text: "Queued" }),
                           el("th", { scope: "col", text: "Running" }), el("th", { scope: "col", text: "Oldest waiting" }))),
        el("tbody", {}, pool.creators.length
          ? pool.creators.map((c) => el("tr", { dataset: { creator: c.creator_id } },
              el("td", {}, el("span", { class: "swatch", style: { background: this.color(c.name) } }), c.name),
              el("td", { text: c.queued }), el("td", { text: c.running }),
              el("td", { text: formatDuration(c.oldest_queued_age_seconds) })))
          : el("tr", {}, el("td", { colspan: 4, class: "hint", text: "idle" }))))));
  }

  // Rows are kept between refreshes so a grant being typed is not wiped out.
  renderCreators(creators) {
    const body = $("#creator-rows");
    const seen = new Set();
    for (const creator of creators) {
      seen.add(creator.id);
      let row = this.rows.get(creator.id);
      if (!row) {
        row = this.creatorRow(creator);
        this.rows.set(creator.id, row);
      }
      row.querySelector(".weight").textContent = creator.weight;
      row.querySelector(".balance").textContent = formatNumber(creator.credits.balance);
      row.querySelector(".reserved").textContent = formatNumber(creator.credits.reserved);
      row.querySelector(".available").textContent = formatNumber(creator.credits.available);
    }
    for (const [id, row] of this.rows) if (!seen.has(id)) { row.remove(); this.rows.delete(id); }
    body.append(...creators.map((c) => this.rows.get(c.id)));
  }

  creatorRow(creator) {
    const amount = el("input", { type: "number", step: 1, class: "amount", placeholder: "1000", "aria-label": `Credits to grant ${creator.name}` });
    const reason = el("input", { class: "reason", placeholder: "reason", maxlength: 500, "aria-label": `Reason for granting ${creator.name} credits` });
    const form = el("form", { class: "grant" }, amount, reason, el("button", { type: "submit", text: "Grant" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = Number(amount.value);
      if (!Number.isInteger(value) || value === 0) {
        $("#operators-error").textContent = `Enter a whole number of credits for ${creator.name} (negative takes credits away).`;
        return;
      }
      try {
        await this.studio.api.post(`/v1/admin/creators/${encodeURIComponent(creator.id)}/credits`,
                                   { amount: value, reason: reason.value.trim() || "granted in the studio" });
        amount.value = "";
        reason.value = "";
        toast(`${value > 0 ? "Granted" : "Took"} ${formatNumber(Math.abs(value))} credits ${value > 0 ? "to" : "from"} ${creator.name}.`);
        this.tick();
      } catch (error) {
        $("#operators-error").textContent = error.message;
      }
    });
    return el("tr", { dataset: { creator: creator.id } },
      el("th", { scope: "row", text: creator.name }), el("td", { class: "weight" }), el("td", { class: "balance" }),
      el("td", { class: "reserved" }), el("td", { class: "available" }), el("td", {}, form));
  }

  renderWorkers(workers) {
    $("#workers").replaceChildren(...(workers.length
      ? workers.map((w) => el("li", { class: w.online ? "online" : "offline" },
          el("span", { class: "dot", "aria-hidden": "true" }), `${w.name} — ${w.online ? "online" : "offline"}`))
      : [el("li", { class: "hint", text: "No remote workers registered; built-in workers count in the pools above." })]));
  }
}
