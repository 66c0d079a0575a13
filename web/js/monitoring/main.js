// KPI runs (monitoring.html): config → sign-in (shared session with the cockpit) → /me → route.
// Routes: #/{tenant}/{view}?days=&kpi=&status= with view dashboards | runs | validation | lineage |
// sla, and #/{tenant}/run/{run_id} (one run's log). The API decides who may see what; this page only
// hides the correction form from roles the API would refuse.

import { ApiError, api, configureApi } from "../api.js";
import { clearSession, getToken, localLogin, logout } from "../auth.js";
import { h, replaceChildren } from "../dom.js";
import { clearError, setStatus, showError } from "../render/alerts.js";
import { renderDemoLogin } from "../render/login.js";
import { renderRunLog } from "./runlog.js";
import { VIEWS, renderView } from "./views.js";

const WINDOWS = [1, 7, 28, 90];
const STATUSES = ["success", "partial", "failed", "skipped"];

const main = document.getElementById("main");
const context = document.getElementById("header-context");
const toolbar = document.getElementById("toolbar");
const state = { config: null, me: null, controller: null, keepFocus: false };

function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [tenant = "", view = "", id = ""] = path.split("/").map((p) => decodeURIComponent(p));
  const params = new URLSearchParams(query);
  const days = Number(params.get("days"));
  return {
    tenant,
    view: view === "run" || VIEWS.some((v) => v.id === view) ? view : "dashboards",
    runId: view === "run" ? id : "",
    days: WINDOWS.includes(days) ? days : 7,
    kpi: params.get("kpi") || "",
    status: STATUSES.includes(params.get("status")) ? params.get("status") : "",
  };
}

/** The hash of a view; `extra` overrides the current route's filters. */
function buildHash(route, extra = {}) {
  const r = { ...route, ...extra };
  if (r.view === "run") return `#/${encodeURIComponent(r.tenant)}/run/${encodeURIComponent(r.runId)}`;
  const q = new URLSearchParams({ days: String(r.days) });
  if (r.kpi) q.set("kpi", r.kpi);
  if (r.status && r.view === "runs") q.set("status", r.status);
  return `#/${encodeURIComponent(r.tenant)}/${r.view}?${q}`;
}

function handle(err) {
  if (err?.name === "AbortError") return;
  if (err instanceof ApiError && err.status === 401) {
    showLogin(err);
    return;
  }
  setStatus("");
  showError(err);
}

// ---- sign-in ----------------------------------------------------------------------------------

async function showLogin(reason) {
  clearSession();
  toolbar.hidden = true;
  replaceChildren(context);
  if (reason) showError(reason);
  if ((state.config.auth || {}).mode !== "local") {
    replaceChildren(main, h("p", { class: "notice" }, h("a", { href: "./" }, "Sign in on the cockpit first"), ", then come back."));
    return;
  }
  const { users } = await api.demoUsers();
  renderDemoLogin(main, users || [], async (username, button) => {
    button.disabled = true;
    try {
      await localLogin(username);
      clearError();
      await start();
    } catch (err) {
      button.disabled = false;
      handle(err);
    }
  });
}

// ---- header and toolbar -----------------------------------------------------------------------

function tenantChip(route) {
  const tenants = state.me.tenants || [];
  const current = tenants.find((t) => t.id === route.tenant);
  const options = tenants.map((t) => h("option", { value: t.id, selected: t.id === route.tenant }, `${t.name} (${t.role})`));
  if (!current) options.push(h("option", { value: route.tenant, selected: true }, `${route.tenant} (not a member)`));
  return h(
    "div",
    {
      class: "tenant-chip",
      "data-testid": "tenant-chip",
      "data-tenant": route.tenant,
      "data-environment": current?.environment || "",
    },
    h("span", { class: "chip-label", "aria-hidden": "true" }, "Tenant"),
    h("label", { for: "tenant-select", class: "visually-hidden" }, "Tenant"),
    h("select", {
      id: "tenant-select",
      "data-testid": "tenant-select",
      onchange: (e) => navigate(buildHash({ ...route, view: route.view === "run" ? "runs" : route.view }, { tenant: e.target.value }), true),
    }, options),
    h("span", { class: `env-chip env-${current?.environment || "unknown"}`, "data-testid": "environment-chip" },
      current?.environment || "unknown env"),
  );
}

function renderChrome(route) {
  replaceChildren(
    context,
    tenantChip(route),
    h(
      "div",
      { class: "user" },
      h("a", { class: "btn btn-quiet", href: "./", "data-testid": "cockpit-link" }, "Cockpit"),
      h("span", { class: "user-email", "data-testid": "user-email" }, state.me.user?.email || state.me.user?.sub || ""),
      h("button", { type: "button", class: "btn btn-quiet", "data-testid": "logout", onclick: () => { logout(state.config); showLogin(); } }, "Sign out"),
    ),
  );
  const nav = h(
    "nav",
    { class: "mon-nav", "aria-label": "KPI run views", "data-testid": "monitoring-nav" },
    h("ul", {}, VIEWS.map((v) => h("li", {}, h("a", {
      href: buildHash({ ...route, view: v.id }),
      "data-view": v.id,
      "aria-current": route.view === v.id ? "page" : null,
    }, v.label)))),
  );
  const days = h("select", { id: "window-select", "data-testid": "window-select",
    onchange: (e) => navigate(buildHash(filterRoute(route), { days: Number(e.target.value) }), true) },
    WINDOWS.map((d) => h("option", { value: String(d), selected: d === route.days }, d === 1 ? "Last 24 hours" : `Last ${d} days`)));
  const kpi = h("input", { id: "kpi-filter", type: "search", "data-testid": "kpi-filter", value: route.kpi, placeholder: "all KPIs",
    list: "kpi-options", size: 22 });
  const kpiForm = h("form", { class: "mon-kpi", onsubmit: (e) => {
    e.preventDefault();
    navigate(buildHash(filterRoute(route), { kpi: kpi.value.trim() }), true);
  } }, h("label", { for: "kpi-filter" }, "KPI"), kpi, h("datalist", { id: "kpi-options" }));
  const filters = [h("label", { for: "window-select" }, "Window", days), kpiForm];
  if (route.view === "runs") {
    filters.push(h("label", { for: "status-filter" }, "Status", h("select", { id: "status-filter", "data-testid": "status-filter",
      onchange: (e) => navigate(buildHash(route, { status: e.target.value }), true) },
      h("option", { value: "" }, "any"), STATUSES.map((s) => h("option", { value: s, selected: s === route.status }, s)))));
  }
  replaceChildren(toolbar, nav, route.view === "run" ? null : h("div", { class: "mon-filters" }, filters));
  toolbar.hidden = false;
}

/** A filter change on the run log goes back to the run list. */
function filterRoute(route) {
  return route.view === "run" ? { ...route, view: "runs" } : route;
}

/** Offer the KPIs the loaded view mentions in the KPI filter's suggestions. */
function offerKpis(kpis) {
  const list = document.getElementById("kpi-options");
  if (list) replaceChildren(list, [...new Set(kpis)].sort().map((k) => h("option", { value: k })));
}

function navigate(hash, keepFocus = false) {
  state.keepFocus = keepFocus;
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

// ---- routing ----------------------------------------------------------------------------------

async function route() {
  if (!state.me) return;
  const r = parseRoute();
  if (!r.tenant) {
    const first = state.me.tenants?.[0];
    if (!first) {
      replaceChildren(main, h("p", { class: "notice", "data-testid": "no-tenants" }, "You are not a member of any tenant, so there are no KPI runs to show."));
      return;
    }
    window.location.replace(buildHash({ ...r, tenant: first.id }));
    return;
  }
  const focusedId = document.activeElement?.id;
  renderChrome(r);
  if (state.keepFocus && focusedId) document.getElementById(focusedId)?.focus();
  clearError();
  state.controller?.abort();
  state.controller = new AbortController();
  const role = state.me.tenants.find((t) => t.id === r.tenant)?.role || null;
  const ctx = { ...r, role, main, signal: state.controller.signal, say: setStatus, hash: (extra) => buildHash(r, extra), navigate, offerKpis, onError: handle };
  main.setAttribute("aria-busy", "true");
  try {
    if (r.view === "run") await renderRunLog(ctx);
    else await renderView(ctx);
    document.title = `${main.querySelector("h1")?.textContent || "KPI runs"} — CompanyOS`;
    if (!state.keepFocus) main.focus();
  } catch (err) {
    if (err?.name !== "AbortError") {
      replaceChildren(main, h("p", { class: "notice notice-error", "data-testid": "view-refused" },
        `This view could not be shown: ${err.message}`));
    }
    handle(err);
  } finally {
    main.removeAttribute("aria-busy");
    state.keepFocus = false;
  }
}

async function start() {
  state.me = await api.me();
  await route();
}

async function boot() {
  try {
    state.config = await (await fetch("config.json", { cache: "no-store" })).json();
    configureApi({ apiBase: state.config.apiBase, getToken });
    if (!getToken()) {
      await showLogin();
      return;
    }
    await start();
  } catch (err) {
    handle(err);
  }
}

window.addEventListener("hashchange", () => route().catch(handle));
boot();
