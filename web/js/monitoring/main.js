// KPI runs (monitoring.html): the shell signs in (shared session with the cockpit) and asks /me; this
// page routes and renders the view.
// Routes: #/{tenant}/{view}?days=&kpi=&status= with view dashboards | runs | validation | lineage |
// sla, and #/{tenant}/run/{run_id} (one run's log). The API decides who may see what; this page only
// hides the correction form from roles the API would refuse.

import { h, replaceChildren } from "../dom.js";
import { clearError, setStatus, startShell } from "../shell.js";
import { renderRunLog } from "./runlog.js";
import { VIEWS, renderView } from "./views.js";

const WINDOWS = [1, 7, 28, 90];
const STATUSES = ["success", "partial", "failed", "skipped"];

const state = { me: null, controller: null, keepFocus: false };
const shell = startShell({
  id: "monitoring",
  brand: "KPI runs",
  cognitoSignIn: false, // the Hosted UI brings the caller back to the cockpit
  onSignedIn: (me) => {
    state.me = me;
    return route();
  },
  onSignedOut: () => {
    state.controller?.abort();
    state.me = null;
  },
});
const { main, toolbar } = shell;
toolbar.classList.add("mon-toolbar");
const handle = (err) => shell.handle(err);

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

// ---- header and toolbar -----------------------------------------------------------------------

function renderChrome(route) {
  shell.renderHeader({
    tenant: {
      id: route.tenant,
      always: true,
      onChange: (tenant) =>
        navigate(buildHash({ ...route, view: route.view === "run" ? "runs" : route.view }, { tenant }), true),
    },
  });
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

window.addEventListener("hashchange", () => route().catch(handle));
