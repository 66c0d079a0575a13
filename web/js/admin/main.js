// KPI Admin console: sign-in (shared session with the cockpit), tenant choice, hash routes.

import { api, configureApi } from "../api.js";
import { getToken, localLogin } from "../auth.js";
import { h, replaceChildren } from "../dom.js";
import { configureAdminApi } from "./client.js";
import { renderApprovals, renderAudit, renderCatalog, renderKpi } from "./views.js";

const main = document.getElementById("main");
const alertBox = document.getElementById("error-alert");
const statusLine = document.getElementById("status");
const state = { tenant: null, me: null };

export function showError(err) {
  alertBox.textContent = err ? `${err.message}${err.code ? ` (${err.code})` : ""}` : "";
}

export function say(text) {
  statusLine.textContent = text;
}

async function signIn() {
  const { users } = await api.demoUsers();
  const select = h("select", { id: "admin-user", "aria-label": "Demo user" },
    users.map((u) => h("option", { value: u.username }, u.display)));
  const form = h("form", { class: "admin-panel", "data-testid": "admin-login", onsubmit: async (e) => {
    e.preventDefault();
    await localLogin(select.value);
    boot();
  } }, h("h1", {}, "Sign in to the KPI Admin console"), select, " ", h("button", { type: "submit" }, "Sign in"));
  replaceChildren(main, form);
}

function tenantPicker() {
  const ctx = document.getElementById("admin-context");
  const select = h("select", { id: "admin-tenant", "aria-label": "Tenant", "data-testid": "admin-tenant",
    onchange: () => { state.tenant = select.value; route(); } },
    state.me.tenants.map((t) => h("option", { value: t.id, selected: t.id === state.tenant }, `${t.name} (${t.role})`)));
  replaceChildren(ctx, select);
}

async function route() {
  showError(null);
  const hash = window.location.hash || "#/catalog";
  for (const a of document.querySelectorAll("#admin-nav a")) {
    a.toggleAttribute("aria-current", hash.startsWith(a.getAttribute("href")));
    if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page");
  }
  const [, section, id] = hash.split("/");
  const role = state.me.tenants.find((t) => t.id === state.tenant)?.role;
  const view = { tenant: state.tenant, role, main, showError, say };
  try {
    if (section === "kpi" && id) await renderKpi(view, decodeURIComponent(id));
    else if (section === "approvals") await renderApprovals(view);
    else if (section === "audit") await renderAudit(view);
    else await renderCatalog(view);
  } catch (err) {
    showError(err);
  }
}

async function boot() {
  try {
    const config = await (await fetch("config.json", { cache: "no-store" })).json();
    configureApi({ apiBase: config.apiBase, getToken });
    configureAdminApi(config.apiBase);
    if (!getToken()) {
      if ((config.auth || {}).mode === "local") return signIn();
      replaceChildren(main, h("p", { class: "notice" }, h("a", { href: "./" }, "Sign in on the cockpit first.")));
      return;
    }
    state.me = await api.me();
    state.tenant = state.tenant || state.me.tenants[0]?.id;
    document.getElementById("admin-nav").hidden = false;
    tenantPicker();
    await route();
  } catch (err) {
    showError(err);
  }
}

window.addEventListener("hashchange", route);
boot();
