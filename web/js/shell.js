// The one web shell of every page (cockpit, KPI runs, executive roll-up, KPI Admin): the header
// (brand, deployment environment, tenant chip, console links, signed-in user, sign out), the start-up
// (config.json → API client → Cognito callback → sign-in or /me), the sign-in card, and the error and
// status regions. A page hands its own part over in `startShell(page)` and renders only its content
// into `shell.main` and its controls into `shell.toolbar`.

import { ApiError, api, configureApi } from "./api.js";
import {
  clearSession,
  getToken,
  handleCognitoCallback,
  localLogin,
  logout,
  startCognitoLogin,
} from "./auth.js";
import { h, replaceChildren } from "./dom.js";
import { clearError, setStatus, showError } from "./render/alerts.js";
import { renderCognitoLogin, renderDemoLogin } from "./render/login.js";

export { clearError, setStatus, showError };

const ADMIN_ROLES = new Set(["platform_admin", "tenant_admin", "auditor"]);

/** A titled notice card in `container` (not configured, no tenants, a view that failed). */
export function renderMessage(container, title, text) {
  replaceChildren(
    container,
    h("section", { class: "card notice-card" }, h("h1", {}, title), text ? h("p", {}, text) : null),
  );
}

function brand(name) {
  return h(
    "div",
    { class: "brand" },
    h("span", { class: "brand-mark", "aria-hidden": "true" }, "◧"),
    h("span", { class: "brand-name" }, "CompanyOS ", h("strong", {}, name)),
    h("span", { id: "deployment-env", class: "deployment-env", title: "Deployment environment" }),
  );
}

/**
 * The tenant chip: the tenant's name (a <select> when there is a choice, or always with
 * `always`), its environment, and a title with the deployment. A tenant the caller is not a
 * member of (a shared link) is shown as such, never as another tenant.
 */
function tenantChip(me, tenantId, config, { onChange, always = false, testid = "tenant-select" }) {
  const tenants = me.tenants || [];
  const current = tenants.find((t) => t.id === tenantId);
  const env = current?.environment || "";
  const options = tenants.map((t) =>
    h("option", { value: t.id, selected: t.id === tenantId }, `${t.name} (${t.role})`),
  );
  if (!current) options.push(h("option", { value: tenantId, selected: true }, `${tenantId} (not a member)`));
  const name =
    always || !current || tenants.length > 1
      ? [
          h("label", { for: "tenant-select", class: "visually-hidden" }, "Tenant"),
          h(
            "select",
            { id: "tenant-select", "data-testid": testid, onchange: (e) => onChange(e.target.value) },
            options,
          ),
        ]
      : h("span", { class: "tenant-name" }, current.name);
  return h(
    "div",
    {
      class: "tenant-chip",
      "data-testid": "tenant-chip",
      "data-tenant": tenantId,
      "data-environment": env,
      title: `Tenant ${current?.name || tenantId} · environment ${env || "unknown"} · deployment ${config.environment || "unknown"}`,
    },
    h("span", { class: "chip-label", "aria-hidden": "true" }, "Tenant"),
    name,
    h("span", { class: `env-chip env-${env || "unknown"}`, "data-testid": "environment-chip" }, env || "unknown env"),
  );
}

/** Links to the other consoles the caller's roles open (the APIs enforce the same rules). */
function consoleLinks(pageId, me, tenantId) {
  const current = (me.tenants || []).find((t) => t.id === tenantId);
  const link = (id, href, testid, label) =>
    id === pageId ? null : h("a", { class: "btn btn-quiet", href, "data-testid": testid }, label);
  return [
    link("cockpit", "./", "cockpit-link", "Cockpit"),
    // every tenant role may view the KPI run log (runs:view), so every member gets the link
    current?.role
      ? link("monitoring", `monitoring.html#/${encodeURIComponent(current.id)}/dashboards`, "monitoring-link", "KPI runs")
      : null,
    current && ADMIN_ROLES.has(current.role) ? link("admin", "admin.html", "admin-link", "Admin") : null,
    (me.tenants || []).some((t) => t.role === "platform_admin")
      ? link("rollup", "rollup.html", "rollup-link", "Executive roll-up")
      : null,
  ];
}

/**
 * Start a page. `page`: {
 *   id: cockpit | monitoring | rollup | admin (its own console link is left out),
 *   brand: the header's name of the page,
 *   login: {title, note, select} of the sign-in card (render/login.js),
 *   cognitoSignIn: false when the Hosted UI cannot bring the caller back here (then the card links
 *     the cockpit),
 *   onSignedIn(me): the page's start once /me answered,
 *   onSignedOut(): drop the page's state (pending requests, open dialogs) before the sign-in card.
 * }
 * Returns the shell: {main, toolbar, config, me, handle(err), showLogin(reason), renderHeader(opts)}.
 */
export function startShell(page) {
  const header = document.getElementById("site-header");
  const context = h("div", { id: "header-context", class: "header-context" });
  const toolbar = h("div", { id: "toolbar", class: "toolbar", "data-testid": "toolbar", hidden: true });
  replaceChildren(header, h("div", { class: "topbar" }, brand(page.brand), context), toolbar);
  const main = document.getElementById("main");
  const title = document.title;
  document.getElementById("skip-link").addEventListener("click", (e) => {
    e.preventDefault();
    main.focus();
  });

  const shell = { main, toolbar, config: null, me: null, handle, showLogin, renderHeader };

  /** 401 → the sign-in card; an aborted request is no error; anything else → the alert region. */
  function handle(err) {
    if (err?.name === "AbortError") return;
    if (err instanceof ApiError && err.status === 401) {
      showLogin(err);
      return;
    }
    setStatus("");
    showError(err);
  }

  /**
   * The signed-in header: tenant chip (when the page is about one tenant: `tenant` = {id, onChange,
   * always, testid}), console links, the user and sign out. Keeps keyboard focus on the tenant select.
   */
  function renderHeader({ tenant = null } = {}) {
    const focused = context.contains(document.activeElement) ? document.activeElement.id : "";
    replaceChildren(
      context,
      tenant ? tenantChip(shell.me, tenant.id, shell.config, tenant) : null,
      h(
        "div",
        { class: "user" },
        ...consoleLinks(page.id, shell.me, tenant?.id),
        h("span", { class: "user-email", "data-testid": "user-email" }, shell.me.user?.email || shell.me.user?.sub || ""),
        h("button", { type: "button", class: "btn btn-quiet", "data-testid": "logout", onclick: signOut }, "Sign out"),
      ),
    );
    if (focused) document.getElementById(focused)?.focus();
  }

  function signOut() {
    logout(shell.config);
    clearError();
    showLogin();
  }

  async function showLogin(reason) {
    clearSession();
    shell.me = null;
    page.onSignedOut?.();
    replaceChildren(context);
    replaceChildren(toolbar);
    toolbar.hidden = true;
    document.title = `Sign in — ${page.brand}`;
    if (reason) showError(reason);
    const auth = shell.config.auth || {};
    if (auth.mode === "cognito") {
      if (page.cognitoSignIn === false) {
        replaceChildren(main, h("p", { class: "notice" }, h("a", { href: "./" }, "Sign in on the cockpit first"), ", then come back."));
      } else {
        renderCognitoLogin(main, () => startCognitoLogin(auth).catch(showError), page.login);
      }
      return;
    }
    setStatus("Loading demo users…", { busy: true });
    try {
      const { users } = await api.demoUsers();
      renderDemoLogin(main, users || [], (username, button) => signIn(username, button), page.login);
      setStatus("");
    } catch (err) {
      setStatus("");
      renderMessage(main, "Sign-in is unavailable", "The demo user list could not be loaded.");
      showError(err);
    }
  }

  async function signIn(username, button) {
    button.disabled = true;
    setStatus(`Signing in as ${username}…`, { busy: true });
    try {
      await localLogin(username);
      clearError();
      await startSession();
    } catch (err) {
      button.disabled = false;
      setStatus("");
      showError(err);
    }
  }

  async function startSession() {
    setStatus("Loading your profile…", { busy: true });
    try {
      shell.me = await api.me();
    } catch (err) {
      handle(err);
      return;
    }
    setStatus("");
    document.title = title; // the page may name its view
    try {
      await page.onSignedIn(shell.me);
    } catch (err) {
      handle(err);
    }
  }

  async function boot() {
    try {
      const response = await fetch("config.json", { cache: "no-store" });
      if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status}).`);
      shell.config = await response.json();
    } catch (err) {
      renderMessage(main, "This page is not configured", err.message);
      showError(err);
      return;
    }
    configureApi({ apiBase: shell.config.apiBase, getToken });
    document.getElementById("deployment-env").textContent = shell.config.environment || "";
    if (shell.config.auth?.mode === "cognito") {
      try {
        await handleCognitoCallback(shell.config.auth);
      } catch (err) {
        showLogin(err);
        return;
      }
    }
    if (!getToken()) showLogin();
    else startSession();
  }

  boot();
  return shell;
}
