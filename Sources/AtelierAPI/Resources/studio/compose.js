// Compose: a prompt and its settings, the price before submitting (POST /v1/jobs/estimate,
// the server's own pricing) and, for films, the planned scenes (POST /v1/parse), which are
// then submitted as the film's plan so what was previewed is what is made.
import { ApiError } from "./api.js";
import { $, el, formatNumber, toast } from "./dom.js";

const sizes = {
  image: [["512×512 square", 512, 512], ["768×512 landscape", 768, 512], ["512×768 portrait", 512, 768],
          ["1024×1024 large square", 1024, 1024], ["1280×720 wide", 1280, 720]],
  video: [["1280×720 (16:9)", 1280, 720], ["640×360 (16:9, quick)", 640, 360], ["720×1280 (9:16)", 720, 1280],
          ["768×768 square", 768, 768]],
};
const formatsByKind = { image: ["png", "gif"], video: ["mp4", "webm", "gif"] };
const transitions = ["fade", "dissolve", "fadeblack", "fadewhite", "wipeleft", "wiperight", "slideleft", "slideright",
                     "circleopen", "circleclose", "radial", "smoothleft", "smoothright", "none"];

export class ComposeView {
  constructor(studio) {
    this.studio = studio;
    this.form = $("#compose-form");
    this.models = null;
    this.plan = null;        // {key, plan} of the last preview
    this.sequence = 0;       // drops answers to superseded estimates
    this.timer = null;

    $("#transition").append(el("option", { value: "", text: "planner's choice" }),
                            ...transitions.map((name) => el("option", { value: name, text: name })));
    this.form.addEventListener("input", (event) => this.changed(event));
    this.form.addEventListener("change", (event) => this.changed(event));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.fillKind("image");
  }

  get kind() { return this.form.elements.kind.value; }
  get format() { return $("#format").value; }
  get isFilm() { return this.kind === "video" && (this.format === "mp4" || this.format === "webm"); }

  async enter() {
    this.studio.refreshMe();
    if (!this.models) {
      try {
        this.models = (await this.studio.api.get("/v1/models")).data;
        this.fillModels();
      } catch (error) {
        $("#compose-error").textContent = error.message;
      }
    }
    this.schedule();
    $("#prompt").focus();
  }

  fillModels() {
    const select = $("#model");
    const chosen = select.value;
    select.replaceChildren(...this.models.filter((m) => m.kinds.includes(this.kind))
      .map((m) => el("option", { value: m.id, text: m.id, title: m.description })));
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  }

  fillKind(kind) {
    const format = $("#format");
    const chosen = format.value;
    const model = this.models?.find((m) => m.id === $("#model").value);
    const offered = formatsByKind[kind].filter((f) => !model || model.formats.includes(f));
    format.replaceChildren(...offered.map((f) => el("option", { value: f, text: f.toUpperCase() })));
    if (offered.includes(chosen)) format.value = chosen;
    const size = $("#size");
    size.replaceChildren(...sizes[kind].map(([label, w, h]) => el("option", { value: `${w}x${h}`, text: label })),
                         el("option", { value: "custom", text: "Custom…" }));
    if (this.models) this.fillModels();
    this.toggleFields();
  }

  toggleFields() {
    const video = this.kind === "video";
    const gif = this.format === "gif";
    for (const node of this.form.querySelectorAll(".video-only")) node.hidden = !video;
    for (const node of this.form.querySelectorAll(".film-only")) node.hidden = !this.isFilm;
    for (const node of this.form.querySelectorAll(".gif-only")) node.hidden = !gif;
    // A GIF loop's length is its frames; a film's is its duration.
    if (video && gif) for (const node of this.form.querySelectorAll(".video-only:not(.film-only)")) node.hidden = true;
    const custom = $("#size").value === "custom";
    for (const node of this.form.querySelectorAll(".custom-size")) node.hidden = !custom;
    $("#seed").disabled = $("#seed-random").checked;
    $("#plan-preview").hidden = !this.isFilm || !this.plan;
  }

  changed(event) {
    if (event.target.name === "kind") this.fillKind(this.kind);
    if (event.target.id === "model") this.fillKind(this.kind);
    if (event.target.id === "size" && event.target.value !== "custom") {
      const [w, h] = event.target.value.split("x").map(Number);
      $("#width").value = w;
      $("#height").value = h;
    }
    for (const node of this.form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    this.toggleFields();
    this.schedule();
  }

  // Prices the form once typing pauses; the price box is aria-busy until the answer for the
  // form as it now stands has arrived.
  schedule() {
    clearTimeout(this.timer);
    this.sequence++;
    $(".estimate").setAttribute("aria-busy", "true");
    this.timer = setTimeout(() => this.estimate(), 350);
  }

  settled(sequence) {
    if (sequence === this.sequence) $(".estimate").setAttribute("aria-busy", "false");
  }

  dimensions() {
    const size = $("#size").value;
    if (size && size !== "custom") return size.split("x").map(Number);
    return [Number($("#width").value), Number($("#height").value)];
  }

  // The body POST /v1/jobs takes for what the form says.
  body({ seed } = {}) {
    const [width, height] = this.dimensions();
    const params = { width, height, format: this.format };
    params.seed = seed ?? Number($("#seed").value);
    if (this.format === "gif") params.frames = Number($("#frames").value);
    if (this.isFilm) {
      params.duration_s = Number($("#duration").value);
      const scenes = Number($("#scenes").value);
      if (scenes > 0) params.scenes = scenes;
      if ($("#transition").value) params.transition = $("#transition").value;
    }
    const body = { kind: this.kind, prompt: $("#prompt").value.trim(), model: $("#model").value || "builtin", params };
    const negative = $("#negative-prompt").value.trim();
    if (negative) body.negative_prompt = negative;
    return body;
  }

  planKey(body) {
    const p = body.params;
    return JSON.stringify([body.prompt, body.negative_prompt, p.duration_s, p.scenes, p.transition, p.width, p.height]);
  }

  // Prices the job; for a film, plans it first and prices that plan.
  async estimate() {
    const sequence = ++this.sequence;
    const body = this.body();
    const note = $("#compose-note");
    $("#compose-error").textContent = "";
    if (!body.prompt) {
      $("#cost").textContent = "–";
      note.textContent = "Write a prompt to see what it costs.";
      this.showAvailable();
      this.settled(sequence);
      return;
    }
    try {
      if (this.isFilm) {
        const key = this.planKey(body);
        if (this.plan?.key !== key) {
          const options = { kind: "video", duration_s: body.params.duration_s };
          if (body.params.scenes) options.scenes = body.params.scenes;
          if (body.params.transition) options.transition = body.params.transition;
          const parsed = await this.studio.api.post("/v1/parse", {
            prompt: body.prompt, ...(body.negative_prompt ? { negative_prompt: body.negative_prompt } : {}), options });
          if (sequence !== this.sequence) return;
          this.plan = { key, plan: { creative_direction: parsed.creative_direction, scenes: parsed.scenes } };
          this.showPlan(parsed);
        }
        body.plan = this.plan.plan;
      }
      const estimate = await this.studio.api.post("/v1/jobs/estimate", body);
      if (sequence !== this.sequence) return;
      $("#cost").textContent = formatNumber(estimate.cost);
      $("#available").textContent = formatNumber(estimate.available);
      const short = estimate.cost > estimate.available;
      note.textContent = short
        ? `This costs ${formatNumber(estimate.cost - estimate.available)} credits more than you have available.`
        : estimate.scenes ? `${estimate.scenes} scenes, ${estimate.frames} frames at ${estimate.width}×${estimate.height}.`
        : `${estimate.width}×${estimate.height}${this.format === "gif" ? `, ${estimate.frames} frames` : ""}.`;
      note.classList.toggle("warn", short);
    } catch (error) {
      if (sequence !== this.sequence) return;
      $("#cost").textContent = "–";
      note.textContent = "";
      this.showError(error);
    }
    this.toggleFields();
    this.settled(sequence);
  }

  showAvailable() {
    const me = this.studio.me;
    if (me) $("#available").textContent = formatNumber(me.credits.available);
  }

  showPlan(parsed) {
    const direction = parsed.creative_direction || {};
    $("#plan-direction").textContent = [direction.style, direction.mood].filter(Boolean).join(", ");
    $("#plan-scenes").replaceChildren(...parsed.scenes.map((scene) =>
      el("li", {}, el("strong", { text: `${scene.duration_s} s` }), " ", scene.description,
         el("span", { class: "hint", text: ` · ${[scene.shot, scene.camera_motion, scene.transition].filter(Boolean).join(", ")}` }))));
  }

  showError(error) {
    $("#compose-error").textContent = error.message;
    const fields = { "prompt": "#prompt", "negative_prompt": "#negative-prompt", "params.width": "#width",
                     "params.height": "#height", "params.seed": "#seed", "params.format": "#format",
                     "params.frames": "#frames", "params.duration_s": "#duration", "params.scenes": "#scenes" };
    for (const failure of error.problem?.errors ?? []) {
      const node = fields[failure.field] && $(fields[failure.field]);
      if (!node) continue;
      node.setAttribute("aria-invalid", "true");
      if (node.closest(".custom-size")) $("#size").value = "custom";
    }
    this.toggleFields();
  }

  async submit() {
    const button = $("#submit");
    if (button.disabled) return;
    $("#compose-error").textContent = "";
    if (!$("#prompt").value.trim()) {
      $("#prompt").setAttribute("aria-invalid", "true");
      $("#compose-error").textContent = "Write a prompt first.";
      $("#prompt").focus();
      return;
    }
    let seed;
    if ($("#seed-random").checked) {
      seed = crypto.getRandomValues(new Uint32Array(1))[0];
      $("#seed").value = seed;
    }
    const body = this.body({ seed });
    if (this.isFilm && this.plan?.key === this.planKey(body)) body.plan = this.plan.plan;
    // One key per press: a retry after a dropped connection cannot queue the job twice.
    const idempotency = { "Idempotency-Key": crypto.randomUUID() };
    button.disabled = true;
    try {
      let job;
      try {
        job = await this.studio.api.post("/v1/jobs", body, idempotency);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 0) throw error;
        job = await this.studio.api.post("/v1/jobs", body, idempotency);
      }
      toast(`Queued: ${job.prompt.slice(0, 60)} (${formatNumber(job.cost)} credits held)`);
      this.studio.refreshMe();
      location.hash = "#queue";
    } catch (error) {
      this.showError(error);
    } finally {
      button.disabled = false;
    }
  }

  // "Use these settings again": the form takes a finished job's prompt and parameters.
  fill(job) {
    $("#prompt").value = job.prompt;
    $("#negative-prompt").value = job.negative_prompt ?? "";
    for (const input of this.form.elements.kind) input.checked = input.value === job.kind;
    this.fillKind(job.kind);
    if ([...$("#model").options].some((o) => o.value === job.model)) $("#model").value = job.model;
    $("#format").value = job.params.format;
    const size = `${job.params.width}x${job.params.height}`;
    $("#size").value = [...$("#size").options].some((o) => o.value === size) ? size : "custom";
    $("#width").value = job.params.width;
    $("#height").value = job.params.height;
    $("#seed").value = job.params.seed;
    $("#seed-random").checked = false;
    if (job.params.frames) $("#frames").value = job.params.frames;
    if (job.params.duration_s) $("#duration").value = job.params.duration_s;
    $("#scenes").value = job.params.scenes ?? 0;
    $("#transition").value = job.params.transition ?? "";
    this.plan = null;
    this.toggleFields();
  }
}
