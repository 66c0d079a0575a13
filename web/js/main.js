// Boot and orchestration: config → sign-in → /me → route → dashboard.

import { ApiError, api, configureApi } from "./api.js";
import {
  clearSession,
  getToken,
  handleCognitoCallback,
  localLogin,
  logout,
  startCognitoLogin,
} from "./auth.js";
import { personaLabel } from "./format.js";
import { buildHash, navigate, onRouteChange, parseHash, resolveRoute } from "./router.js";
import { clearError, setStatus, showError } from "./render/alerts.js";
import { renderDashboard, renderMessage } from "./render/dashboard.js";
import { drillTitle, renderDrill } from "./render/drill.js";
import { closeEvidence, initEvidenceDrawer, openEvidence } from "./render/evidence.js";
import { renderHeader, renderSignedOutHeader } from "./render/header.js";
import { freshnessBadge } from "./render/health.js";
import { renderCognitoLogin, renderDemoLogin } from "./render/login.js";

const FRESHNESS_TICK_MS = 30_000;

const state = {
  config: null,
  me: null,
  route: null,
  dashboard: null,
  fetchedAt: 0,
  controller: null,
  focusMain: false,
};
const main = document.getElementById("main");
const slots = {
  context: document.getElementById("header-context"),
  toolbar: document.getElementById("toolbar"),
};

function handleError(err) {
  if (err?.name === "AbortError") return;
  if (err instanceof ApiError && err.status === 401) {
    showLogin(err);
    return;
  }
  showError(err);
}

// ---- sign-in ----------------------------------------------------------------------------------

async function showLogin(reason) {
  clearSession();
  closeEvidence();
  state.controller?.abort();
  Object.assign(state, { me: null, route: null, dashboard: null });
  renderSignedOutHeader(slots);
  document.title = "Sign in — Exec Cockpit";
  if (reason) showError(reason);
  const auth = state.config.auth || {};
  if (auth.mode === "cognito") {
    renderCognitoLogin(main, () => startCognitoLogin(auth).catch(showError));
    return;
  }
  setStatus("Loading demo users…", { busy: true });
  try {
    const { users } = await api.demoUsers();
    renderDemoLogin(main, users || [], async (username, button) => {
      button.disabled = true;
      setStatus(`Signing in as ${username}…`, { busy: true });
      try {
        await localLogin(username);
        clearError();
        await startSession();
      } catch (err) {
        button.disabled = false;
        showError(err);
        setStatus("");
      }
    });
    setStatus("");
  } catch (err) {
    setStatus("");
    renderMessage(main, "Sign-in is unavailable", "The demo user list could not be loaded.");
    showError(err);
  }
}

async function startSession() {
  setStatus("Loading your profile…", { busy: true });
  try {
    state.me = await api.me();
  } catch (err) {
    setStatus("");
    handleError(err);
    return;
  }
  state.focusMain = true; // the sign-in button is gone: move keyboard focus to the content
  if (!(state.me.tenants || []).length) {
    setStatus("");
    renderMessage(main, "No tenants", "Your account is not a member of any tenant yet.");
    return;
  }
  onRoute(parseHash());
}

function onLogout() {
  logout(state.config);
  clearError();
  showLogin();
}

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
  renderHeader(slots, {
    me: state.me,
    route: resolved,
    config: state.config,
    onTenant: (tenant) => go({ tenant, persona: "" }),
    onPersona: (persona) => go({ persona }),
    onPeriod: (period) => go({ period }),
    onRefresh: () => (state.route.drill ? loadDrill() : loadDashboard()),
    onLogout,
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

// ---- boot ---------------------------------------------------------------------------------------

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status}).`);
  return response.json();
}

async function boot() {
  initEvidenceDrawer();
  document.getElementById("skip-link").addEventListener("click", (e) => {
    e.preventDefault();
    main.focus();
  });
  try {
    state.config = await loadConfig();
  } catch (err) {
    renderMessage(main, "The cockpit is not configured", err.message);
    showError(err);
    return;
  }
  configureApi({ apiBase: state.config.apiBase, getToken });
  document.getElementById("deployment-env").textContent = state.config.environment || "";
  onRouteChange((route) => onRoute(route));
  setInterval(() => state.dashboard && renderFreshness(state.dashboard.snapshot), FRESHNESS_TICK_MS);

  if (state.config.auth?.mode === "cognito") {
    try {
      await handleCognitoCallback(state.config.auth);
    } catch (err) {
      showLogin(err);
      return;
    }
  }
  if (!getToken()) {
    showLogin();
    return;
  }
  startSession();
}

boot();
