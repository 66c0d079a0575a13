// The platform admin's executive roll-up page (rollup.html): the shell signs in and asks /me; this
// page renders the roll-up.
// Routes: #/ (tiles; ?open=<domain> expands one), #/certs/{tenant}?within=&status=,
// #/controls/{tenant}?framework=, #/exports/{job id} (a fresh download link). The period lives in
// localStorage (period.js).

import { rollupApi } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { clearError, renderMessage, setStatus, startShell } from "../shell.js";
import { PERIODS, loadPeriod, periodLabel, periodQuery, savePeriod } from "./period.js";
import {
  renderCertificates,
  renderControls,
  renderExpansion,
  renderScope,
  renderTiles,
} from "./render.js";

const state = { period: loadPeriod(), doc: null, jobTimer: null, signedIn: false };
const shell = startShell({
  id: "rollup",
  brand: "Executive roll-up",
  login: {
    title: "Sign in to the executive roll-up",
    note: "Platform admins only: other roles get “platform_admin_required”.",
  },
  onSignedIn: () => {
    state.signedIn = true;
    shell.renderHeader(); // platform-wide: no tenant chip
    renderToolbar();
    return show();
  },
  onSignedOut: () => {
    state.signedIn = false;
    clearTimeout(state.jobTimer);
  },
});
const el = { main: shell.main, toolbar: shell.toolbar };
const handle = (err) => shell.handle(err);

function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [view = "", tenant = ""] = path.split("/").map((p) => decodeURIComponent(p));
  return { view, tenant, query: new URLSearchParams(query) };
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
    h(
      "div",
      { class: "ro-toolbar" },
      h("label", { for: "period-select" }, "Period "),
      select,
      custom,
      h("span", { class: "ro-period-label muted", "data-testid": "period-label" }, periodLabel(p)),
      h("button", { type: "button", class: "ro-button ro-export", "data-testid": "export-pdf", onclick: exportPdf }, "Export PDF"),
      h("span", { id: "export-status", class: "muted", "data-testid": "export-status", "aria-live": "polite" }),
    ),
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
  show();
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

/** Load and render the route; a view that cannot be loaded says so in place of the content. */
async function show() {
  try {
    await load();
  } catch (err) {
    if (err?.status !== 401) renderMessage(el.main, "The roll-up could not be loaded", err.message);
    handle(err);
  }
}

async function load() {
  const route = parseRoute();
  clearError();
  if (route.view === "certs" && route.tenant) {
    setStatus("Loading certificates…", { busy: true });
    const query = {};
    if (route.query.get("within")) query.within = route.query.get("within");
    if (route.query.get("status")) query.status = route.query.get("status");
    renderCertificates(el.main, route.tenant, await rollupApi.certificates(route.tenant, query));
    setStatus("");
    return;
  }
  if (route.view === "controls" && route.tenant) {
    setStatus("Loading controls…", { busy: true });
    const framework = route.query.get("framework") || "";
    renderControls(el.main, route.tenant, await rollupApi.controls(route.tenant, framework), framework);
    setStatus("");
    return;
  }
  if (route.view === "exports" && route.tenant) {
    setStatus("Loading the export…", { busy: true });
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
  setStatus(`Loading the roll-up (${periodLabel(state.period)})…`, { busy: true });
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
    h("h1", { class: "dash-head" }, `${doc.org.name}: how healthy is the company?`),
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

window.addEventListener("hashchange", () => {
  if (state.signedIn) show();
});
