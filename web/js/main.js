// The Exec Cockpit (index.html): the shell signs in and asks /me; this page routes to a persona's
// dashboard or a drill-down and renders it.

import { api } from "./api.js";
import { personaLabel } from "./format.js";
import { buildHash, navigate, onRouteChange, parseHash, resolveRoute } from "./router.js";
import { renderDashboard } from "./render/dashboard.js";
import { drillTitle, renderDrill } from "./render/drill.js";
import { closeEvidence, initEvidenceDrawer, openEvidence } from "./render/evidence.js";
import { freshnessBadge } from "./render/health.js";
import { renderToolbar } from "./render/toolbar.js";
import { clearError, renderMessage, setStatus, startShell } from "./shell.js";

const FRESHNESS_TICK_MS = 30_000;

const main = document.getElementById("main");
const state = {
  me: null,
  route: null,
  dashboard: null,
  fetchedAt: 0,
  controller: null,
  focusMain: false,
};

const shell = startShell({
  id: "cockpit",
  brand: "Exec Cockpit",
  onSignedIn: (me) => {
    state.me = me;
    state.focusMain = true; // the sign-in button is gone: move keyboard focus to the content
    if (!(me.tenants || []).length) {
      renderMessage(main, "No tenants", "Your account is not a member of any tenant yet.");
      return;
    }
    onRoute(parseHash());
  },
  onSignedOut: () => {
    closeEvidence();
    state.controller?.abort();
    Object.assign(state, { me: null, route: null, dashboard: null });
  },
});
const handleError = (err) => shell.handle(err);

// ---- routing & dashboard ------------------------------------------------------------------------

function go(change) {
  const next = { ...state.route, drill: null, ...change };
  const resolved = resolveRoute(next, state.me);
  if (navigate(resolved)) return; // hashchange will call onRoute
  onRoute(resolved);
}

function onRoute(route) {
  if (!state.me) return;
  const resolved = resolveRoute(route, state.me);
  navigate(resolved, { replace: true }); // canonicalise the address without a new history entry
  state.route = resolved;
  closeEvidence();
  shell.renderHeader({ tenant: { id: resolved.tenant, onChange: (tenant) => go({ tenant, persona: "" }) } });
  renderToolbar(shell.toolbar, {
    route: resolved,
    onPersona: (persona) => go({ persona }),
    onPeriod: (period) => go({ period }),
    onRefresh: () => (state.route.drill ? loadDrill() : loadDashboard()),
  });
  if (!resolved.persona) {
    renderMessage(main, "No dashboards", "Your role in this tenant has no dashboards.");
    return;
  }
  document.title = `${resolved.drill ? `${drillTitle(resolved.drill)} · ` : ""}${personaLabel(resolved.persona)} · ${resolved.tenantInfo.name} — Exec Cockpit`;
  if (resolved.drill) loadDrill();
  else loadDashboard();
}

/** The link target of a drill-down from the current dashboard (an in-app hash). */
function drillHref(drill) {
  return buildHash({ ...state.route, drill });
}

async function loadDrill() {
  const { tenant, persona, period, drill } = state.route;
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  state.dashboard = null;
  renderFreshness(null);
  setStatus(`Loading ${drillTitle(drill)}…`, { busy: true });
  main.setAttribute("aria-busy", "true");
  try {
    await renderDrill(main, {
      tenant,
      persona,
      period,
      drill,
      signal: controller.signal,
      drillHref,
      backHref: buildHash({ tenant, persona, period }),
      onEvidence: (evidence, item, trigger) =>
        openEvidence({ evidence, item, tenant, period, trigger, onError: handleError }),
    });
    if (controller.signal.aborted) return;
    clearError();
    main.focus();
    setStatus(`${drillTitle(drill)} loaded.`);
  } catch (err) {
    if (err.name === "AbortError") return;
    setStatus("");
    renderMessage(main, "This drill-down could not be loaded", err.message);
    handleError(err);
  } finally {
    if (state.controller === controller) main.removeAttribute("aria-busy");
  }
}

async function loadDashboard() {
  const { tenant, persona, period } = state.route;
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  setStatus(`Loading the ${personaLabel(persona)} dashboard…`, { busy: true });
  main.setAttribute("aria-busy", "true");
  renderFreshness(null);
  try {
    const data = await api.dashboard(persona, tenant, period, controller.signal);
    if (controller.signal.aborted) return;
    clearError();
    state.dashboard = data;
    state.fetchedAt = Date.now();
    renderDashboard(main, data, {
      drillHref,
      onEvidence: (evidence, item, trigger) =>
        openEvidence({ evidence, item, tenant, period, trigger, onError: handleError }),
    });
    renderFreshness(data.snapshot);
    if (state.focusMain) {
      state.focusMain = false;
      main.focus();
    }
    setStatus(`${personaLabel(persona)} dashboard loaded.`);
  } catch (err) {
    if (err.name === "AbortError") return;
    state.dashboard = null;
    setStatus("");
    renderMessage(main, "This dashboard could not be loaded", err.message);
    handleError(err);
  } finally {
    if (state.controller === controller) main.removeAttribute("aria-busy");
  }
}

function renderFreshness(snapshot) {
  const slot = document.getElementById("freshness-slot");
  if (!slot) return;
  slot.replaceChildren(snapshot === null ? "" : freshnessBadge(snapshot, state.fetchedAt));
}

// ---- start-up (before the shell's sign-in answers) ---------------------------------------------

initEvidenceDrawer();
onRouteChange((route) => onRoute(route));
setInterval(() => state.dashboard && renderFreshness(state.dashboard.snapshot), FRESHNESS_TICK_MS);
