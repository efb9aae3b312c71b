// The studio's shell: signing in and out, the views and the theme.
import { Api, ApiError } from "./api.js";
import { $, formatNumber } from "./dom.js";
import { ComposeView } from "./compose.js";
import { QueueView } from "./queue.js";
import { GalleryView } from "./gallery.js";
import { OperatorsView } from "./operators.js";

const keyStorage = "atelier.key";     // sessionStorage: this tab only
const themeStorage = "atelier.theme"; // localStorage: not a secret

const studio = {
  api: null,
  role: null,
  me: null,
  views: {},
  current: null,

  // Shows a view by name; views outside the signed-in role fall back to the role's first.
  show(name) {
    const allowed = this.role === "admin" ? ["operators"] : ["compose", "queue", "gallery"];
    if (!this.role) name = "sign-in";
    else if (!allowed.includes(name)) name = allowed[0];
    if (this.current && this.current !== name) this.views[this.current]?.leave?.();
    for (const section of document.querySelectorAll("main > .view")) {
      section.hidden = section.id !== `view-${name}`;
    }
    for (const link of document.querySelectorAll("#nav a")) {
      link.hidden = link.dataset.role !== this.role;
      if (link.dataset.view === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const entering = this.current !== name;
    this.current = name;
    if (entering) this.views[name]?.enter?.();
    if (location.hash !== `#${name}` && name !== "sign-in") history.replaceState(null, "", `#${name}`);
  },

  // Refreshes the credits shown in the header (creators).
  async refreshMe() {
    if (this.role !== "creator") return;
    try {
      this.me = await this.api.get("/v1/me");
      $("#who").textContent = `${this.me.name} · ${formatNumber(this.me.credits.available)} credits available`;
    } catch { /* the header keeps its last figure */ }
  },
};

async function signIn(key) {
  const api = new Api(key);
  let role = null;
  let me = null;
  try {
    me = await api.get("/v1/me");
    role = "creator";
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    try {
      await api.get("/v1/admin/creators");
      role = "admin";
    } catch (inner) {
      if (inner instanceof ApiError && inner.status === 403) {
        throw new Error("This is a worker's key. The studio is for creators and operators: sign in with a creator or admin key.");
      }
      throw inner;
    }
  }
  studio.api = api;
  studio.role = role;
  studio.me = me;
  sessionStorage.setItem(keyStorage, key);
  $("#nav").hidden = false;
  $("#sign-out").hidden = false;
  $("#who").textContent = role === "admin" ? "operator" : `${me.name} · ${formatNumber(me.credits.available)} credits available`;
  const wanted = location.hash.slice(1);
  studio.show(wanted || (role === "admin" ? "operators" : "compose"));
}

function signOut() {
  if (studio.current) studio.views[studio.current]?.leave?.();
  sessionStorage.removeItem(keyStorage);
  studio.api = null;
  studio.role = null;
  studio.me = null;
  studio.current = null;
  $("#nav").hidden = true;
  $("#sign-out").hidden = true;
  $("#who").textContent = "";
  $("#api-key").value = "";
  $("#toast").classList.remove("shown");
  history.replaceState(null, "", location.pathname);
  studio.show("sign-in");
  $("#api-key").focus();
}

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function setUp() {
  applyTheme(localStorage.getItem(themeStorage));
  $("#theme").addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme
      ? document.documentElement.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
    const next = dark ? "light" : "dark";
    localStorage.setItem(themeStorage, next);
    applyTheme(next);
  });

  studio.views = {
    compose: new ComposeView(studio),
    queue: new QueueView(studio),
    gallery: new GalleryView(studio),
    operators: new OperatorsView(studio),
  };

  $("#sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    const error = $("#sign-in-error");
    error.textContent = "";
    if (!key) {
      error.textContent = "Paste an API key first.";
      return;
    }
    try {
      await signIn(key);
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401
        ? "That key was not accepted. Check that it was copied whole; keys are shown once, so ask your operator for a new one if it is lost."
        : failure.message;
    }
  });
  $("#sign-out").addEventListener("click", signOut);
  addEventListener("hashchange", () => studio.role && studio.show(location.hash.slice(1)));

  const saved = sessionStorage.getItem(keyStorage);
  if (saved) signIn(saved).catch(() => signOut());
  else studio.show("sign-in");
}

setUp();
