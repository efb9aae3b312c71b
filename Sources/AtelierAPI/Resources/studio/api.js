// The API from the browser: bearer key, problem documents turned into sentences, and
// server-sent events read over fetch (EventSource cannot send an Authorization header).

export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

// Words a person can act on, from an RFC 9457 problem document.
export function describeProblem(status, problem) {
  if (!problem) {
    if (status === 0) return "The server cannot be reached. Check that Atelier is running, then try again.";
    return `The server answered ${status} without an explanation.`;
  }
  let text = problem.detail || problem.title || `The server answered ${status}.`;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  if (Array.isArray(problem.errors) && problem.errors.length) {
    text += ": " + problem.errors.map((e) => `${fieldLabel(e.field)} ${e.message}`).join("; ");
  }
  if (!/[.!?]$/.test(text)) text += ".";
  return text;
}

const labels = {
  "prompt": "the prompt", "negative_prompt": "the negative prompt", "model": "the model",
  "params.width": "the width", "params.height": "the height", "params.seed": "the seed",
  "params.format": "the format", "params.frames": "the frame count", "params.duration_s": "the duration",
  "params.scenes": "the scene count", "params.transition": "the transition", "params.fps": "the frame rate",
};

function fieldLabel(field) {
  return labels[field] || field;
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    return { "Authorization": `Bearer ${this.key}`, "Accept": "application/json", ...extra };
  }

  async request(method, path, body, extraHeaders = {}) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: this.headers(body === undefined ? extraHeaders : { "Content-Type": "application/json", ...extraHeaders }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, null, describeProblem(0, null));
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      const problem = type.includes("json") ? await response.json().catch(() => null) : null;
      const error = new ApiError(response.status, problem, describeProblem(response.status, problem));
      error.retryAfter = Number(response.headers.get("Retry-After")) || null;
      throw error;
    }
    if (response.status === 204) return null;
    return type.includes("json") ? response.json() : response.text();
  }

  get(path) { return this.request("GET", path); }
  post(path, body, headers) { return this.request("POST", path, body ?? {}, headers); }

  // Follows a job's event stream, calling onEvent(name, data) for each event, until the job
  // ends or `signal` aborts. A dropped connection is reopened with Last-Event-ID after a pause
  // that grows to 10 s; the server first replays the current state, so nothing is missed.
  async followJob(id, onEvent, signal, onConnection = () => {}) {
    let lastEventID = null;
    let pause = 500;
    while (!signal.aborted) {
      let ended = false;
      try {
        const headers = this.headers({ "Accept": "text/event-stream" });
        if (lastEventID) headers["Last-Event-ID"] = lastEventID;
        const response = await fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, { headers, signal });
        if (response.status === 404) return;
        if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
        onConnection(true);
        pause = 500;
        for await (const event of readEvents(response.body, signal)) {
          if (event.id) lastEventID = event.id;
          let data = null;
          try { data = JSON.parse(event.data); } catch { continue; }
          onEvent(event.event, data);
          if (["succeeded", "failed", "canceled"].includes(data.status)) ended = true;
        }
      } catch (error) {
        if (signal.aborted) return;
      }
      if (ended) return;
      onConnection(false);
      await sleep(pause, signal);
      pause = Math.min(pause * 2, 10000);
    }
  }
}

// Parses a text/event-stream body into {id, event, data} records.
async function* readEvents(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const record = { id: null, event: "message", data: "" };
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") record.data += (record.data ? "\n" : "") + value;
          else if (field === "event") record.event = value;
          else if (field === "id") record.id = value;
        }
        if (record.data) yield record;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
