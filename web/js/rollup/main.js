// The platform admin's executive roll-up page (rollup.html): config → sign-in → roll-up.
// Routes: #/ (tiles; ?open=<domain> expands one), #/certs/{tenant}?within=&status=,
// #/controls/{tenant}?framework=, #/exports/{job id} (a fresh download link). The period lives in
// localStorage (period.js).

import { ApiError } from "../api.js";
import { clearSession, getToken, handleCognitoCallback, localLogin, logout, startCognitoLogin } from "../auth.js";
import { h, replaceChildren } from "../dom.js";
import { configureClient, rollupApi } from "./client.js";
import { PERIODS, loadPeriod, periodLabel, periodQuery, savePeriod } from "./period.js";
import {
  renderCertificates,
  renderControls,
  renderExpansion,
  renderScope,
  renderTiles,
} from "./render.js";

const el = {
  main: document.getElementById("main"),
  toolbar: document.getElementById("toolbar"),
  user: document.getElementById("header-user"),
  error: document.getElementById("error-alert"),
  status: document.getElementById("status"),
};
const state = { config: null, period: loadPeriod(), doc: null, jobTimer: null };

function setStatus(text) {
  el.status.textContent = text || "";
}

function showError(err) {
  el.error.textContent = err ? `${err.message}${err.code ? ` (${err.code})` : ""}` : "";
  el.error.dataset.code = err?.code || "";
}

function handle(err) {
  if (err instanceof ApiError && err.status === 401) {
    showLogin(err);
    return;
  }
  setStatus("");
  showError(err);
}

function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [view = "", tenant = ""] = path.split("/").map((p) => decodeURIComponent(p));
  return { view, tenant, query: new URLSearchParams(query) };
}

// ---- sign-in ----------------------------------------------------------------------------------

async function showLogin(reason) {
  clearSession();
  el.toolbar.hidden = true;
  replaceChildren(el.user);
  showError(reason || null);
  const auth = state.config.auth || {};
  if (auth.mode === "cognito") {
    replaceChildren(el.main, h("button", { type: "button", class: "ro-button", onclick: () => startCognitoLogin(auth) }, "Sign in"));
    return;
  }
  const { users } = await rollupApi.demoUsers();
  replaceChildren(
    el.main,
    h(
      "section",
      { class: "ro-login", "data-testid": "login" },
      h("h1", {}, "Sign in to the executive roll-up"),
      h("p", { class: "muted" }, "Platform admins only: other roles get “platform_admin_required”."),
      h(
        "ul",
        { class: "ro-login-users" },
        users.map((u) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "ro-button",
                "data-testid": "login-user",
                "data-username": u.username,
                onclick: async () => {
                  try {
                    await localLogin(u.username);
                    showError(null);
                    await start(u.username);
                  } catch (err) {
                    handle(err);
                  }
                },
              },
              u.display || u.username,
            ),
          ),
        ),
      ),
    ),
  );
}

// ---- toolbar: period and export -------------------------------------------------------------

function renderToolbar() {
  el.toolbar.hidden = false;
  const p = state.period;
  const select = h(
    "select",
    { id: "period-select", "data-testid": "period-select", onchange: (ev) => onPeriod(ev.target.value) },
    [...PERIODS.map((k) => h("option", { value: k, selected: p.key === k }, `${parseInt(k, 10)} days`)),
      h("option", { value: "custom", selected: p.key === "custom" }, "Custom range")],
  );
  const custom = h(
    "form",
    {
      class: "ro-custom",
      "data-testid": "custom-range",
      hidden: p.key !== "custom",
      onsubmit: (ev) => {
        ev.preventDefault();
        const form = new FormData(ev.target);
        setPeriod({ key: "custom", start: form.get("start"), end: form.get("end") });
      },
    },
    h("label", {}, "From ", h("input", { type: "date", name: "start", required: true, value: p.start || "" })),
    h("label", {}, " to ", h("input", { type: "date", name: "end", required: true, value: p.end || "" })),
    h("button", { type: "submit", class: "ro-button" }, "Apply"),
  );
  replaceChildren(
    el.toolbar,
    h("label", { for: "period-select" }, "Period "),
    select,
    custom,
    h("span", { class: "ro-period-label muted", "data-testid": "period-label" }, periodLabel(p)),
    h("button", { type: "button", class: "ro-button ro-export", "data-testid": "export-pdf", onclick: exportPdf }, "Export PDF"),
    h("span", { id: "export-status", class: "muted", "data-testid": "export-status", "aria-live": "polite" }),
  );
}

function onPeriod(key) {
  if (key === "custom") {
    el.toolbar.querySelector("[data-testid=custom-range]").hidden = false;
    return;
  }
  setPeriod({ key });
}

function setPeriod(period) {
  state.period = period;
  savePeriod(period);
  renderToolbar();
  load().catch(handle);
}

async function exportPdf() {
  const status = document.getElementById("export-status");
  status.textContent = "Preparing the board pack…";
  try {
    const { response, blob, data } = await rollupApi.exportPdf({ ...periodQuery(state.period), purpose: "board pack (web)" });
    if (blob) {
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || "companyos-executive.pdf";
      const link = h("a", { href: URL.createObjectURL(blob), download: name, "data-testid": "export-download" }, `Download ${name}`);
      replaceChildren(status, link);
      link.click();
      return;
    }
    replaceChildren(status, `Large export queued (job ${data.job_id}): you will get an email with the link.`);
    pollJob(data.job_id, status);
  } catch (err) {
    status.textContent = "";
    handle(err);
  }
}

function pollJob(jobId, status) {
  clearTimeout(state.jobTimer);
  state.jobTimer = setTimeout(async () => {
    try {
      const job = await rollupApi.exportStatus(jobId);
      if (job.status === "ready") {
        replaceChildren(status, h("a", { href: job.download_url, "data-testid": "export-download" }, `Download ${job.filename}`));
      } else if (job.status === "failed") {
        status.textContent = `The export failed: ${job.error || "unknown error"}`;
      } else {
        status.textContent = `Export ${job.status}…`;
        pollJob(jobId, status);
      }
    } catch (err) {
      handle(err);
    }
  }, 2000);
}

// ---- views ----------------------------------------------------------------------------------------

async function load() {
  const route = parseRoute();
  showError(null);
  if (route.view === "certs" && route.tenant) {
    setStatus("Loading certificates…");
    const query = {};
    if (route.query.get("within")) query.within = route.query.get("within");
    if (route.query.get("status")) query.status = route.query.get("status");
    renderCertificates(el.main, route.tenant, await rollupApi.certificates(route.tenant, query));
    setStatus("");
    return;
  }
  if (route.view === "controls" && route.tenant) {
    setStatus("Loading controls…");
    const framework = route.query.get("framework") || "";
    renderControls(el.main, route.tenant, await rollupApi.controls(route.tenant, framework), framework);
    setStatus("");
    return;
  }
  if (route.view === "exports" && route.tenant) {
    setStatus("Loading the export…");
    const job = await rollupApi.exportStatus(route.tenant); // the segment is the job id
    replaceChildren(
      el.main,
      h("p", {}, h("a", { href: "#/" }, "← Back to the roll-up")),
      h("h2", {}, `Board pack export ${job.job_id}`),
      h("p", { "data-testid": "export-job-status" }, `Status: ${job.status}${job.error ? ` (${job.error})` : ""}`),
      job.download_url
        ? h("p", {}, h("a", { href: job.download_url, "data-testid": "export-download" }, `Download ${job.filename}`), h("span", { class: "muted" }, ` (link valid until ${job.expires_at})`))
        : null,
    );
    setStatus("");
    return;
  }
  setStatus(`Loading the roll-up (${periodLabel(state.period)})…`);
  state.doc = await rollupApi.executive(periodQuery(state.period));
  renderOverview(route.query.get("open"));
  setStatus("");
}

function renderOverview(open) {
  const doc = state.doc;
  const scope = h("p", { class: "ro-scope", "data-testid": "scope" });
  const tiles = h("div", { class: "ro-tiles", "data-testid": "rollup-tiles", "data-period": doc.period.key });
  const expansion = h("section", { id: "rollup-expansion", class: "ro-expansion", "data-testid": "rollup-expansion", "aria-labelledby": "rollup-expansion-title", hidden: true });
  replaceChildren(
    el.main,
    h("h1", {}, `${doc.org.name}: how healthy is the company?`),
    scope,
    doc.scope.tenants.length ? tiles : h("p", { class: "notice", "data-testid": "no-tenants" }, "No tenants in scope."),
    expansion,
  );
  renderScope(scope, doc);
  const toggle = (id) => {
    window.history.replaceState(null, "", id ? `#/?open=${encodeURIComponent(id)}` : "#/");
    renderTiles(tiles, doc, { expanded: id, onToggle: toggle });
    renderExpansion(expansion, doc, id);
    if (id) expansion.scrollIntoView({ block: "nearest" });
  };
  toggle(open);
}

async function start(email) {
  replaceChildren(
    el.user,
    h("span", { "data-testid": "user-email" }, email || ""),
    " ",
    h("a", { href: "/" }, "Cockpit"),
    " ",
    h("button", { type: "button", class: "ro-link", onclick: () => { logout(state.config); showLogin(); } }, "Sign out"),
  );
  renderToolbar();
  await load();
}

function tokenEmail() {
  try {
    const payload = JSON.parse(atob(getToken().split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.email || "";
  } catch {
    return "";
  }
}

async function boot() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status}).`);
    state.config = await response.json();
  } catch (err) {
    showError(err);
    return;
  }
  configureClient({ apiBase: state.config.apiBase });
  if (state.config.auth?.mode === "cognito") await handleCognitoCallback(state.config.auth).catch(showError);
  window.addEventListener("hashchange", () => {
    if (getToken()) load().catch(handle);
  });
  if (!getToken()) {
    await showLogin().catch(handle);
    return;
  }
  await start(tokenEmail()).catch(handle);
}

boot();
