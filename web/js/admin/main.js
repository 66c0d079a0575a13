// KPI Admin console (admin.html): the shell signs in (shared session with the cockpit) and asks /me;
// this page keeps the chosen tenant and routes #/catalog | #/kpi/{id} | #/approvals | #/audit | #/vendors |
// #/integrations | #/subscribers | #/outbox[/{subscriber id}].

import { h } from "../dom.js";
import { clearError, renderMessage, setStatus, startShell } from "../shell.js";
import { renderApprovals, renderAudit, renderCatalog, renderKpi } from "./views.js";
import { renderVendors } from "./vendors.js";
import { renderIntegrations } from "./integrations.js";
import { renderSubscribers } from "./subscribers.js";
import { renderOutbox } from "./outbox.js";

const SECTIONS = [
  ["#/catalog", "nav-catalog", "Catalog"],
  ["#/approvals", "nav-approvals", "Change requests"],
  ["#/audit", "nav-audit", "Audit"],
  ["#/vendors", "nav-vendors", "Vendors"],
  ["#/integrations", "nav-integrations", "Integrations"],
  ["#/subscribers", "nav-subscribers", "Subscribers"],
  ["#/outbox", "nav-outbox", "Outbox"],
];
const state = { tenant: null, me: null };
const shell = startShell({
  id: "admin",
  brand: "KPI Admin",
  login: { title: "Sign in to the KPI Admin console", note: null, select: { id: "admin-user", testid: "admin-login" } },
  cognitoSignIn: false, // the Hosted UI brings the caller back to the cockpit
  onSignedIn: (me) => {
    state.me = me;
    if (!(me.tenants || []).length) {
      renderMessage(shell.main, "No tenants", "Your account is not a member of any tenant yet.");
      return;
    }
    if (!me.tenants.some((t) => t.id === state.tenant)) state.tenant = me.tenants[0].id;
    return route();
  },
  onSignedOut: () => {
    state.me = null;
  },
});
const handle = (err) => shell.handle(err);

function renderChrome(hash) {
  shell.renderHeader({
    tenant: {
      id: state.tenant,
      always: true,
      testid: "admin-tenant",
      onChange: (tenant) => {
        state.tenant = tenant;
        route();
      },
    },
  });
  shell.toolbar.replaceChildren(
    h(
      "nav",
      { class: "admin-nav", "aria-label": "Admin sections" },
      SECTIONS.map(([href, testid, label]) =>
        h("a", { href, "data-testid": testid, "aria-current": hash.startsWith(href) ? "page" : null }, label),
      ),
    ),
  );
  shell.toolbar.hidden = false;
}

async function route() {
  if (!state.me) return;
  clearError();
  const hash = window.location.hash || "#/catalog";
  renderChrome(hash);
  const [, section, id] = hash.split("/");
  const role = state.me.tenants.find((t) => t.id === state.tenant)?.role;
  const view = { tenant: state.tenant, role, main: shell.main, showError: handle, say: setStatus };
  try {
    if (section === "kpi" && id) await renderKpi(view, decodeURIComponent(id));
    else if (section === "approvals") await renderApprovals(view);
    else if (section === "audit") await renderAudit(view);
    else if (section === "vendors") await renderVendors(view);
    else if (section === "integrations") await renderIntegrations(view);
    else if (section === "subscribers") await renderSubscribers(view);
    else if (section === "outbox") await renderOutbox(view, id ? decodeURIComponent(id) : null);
    else await renderCatalog(view);
  } catch (err) {
    handle(err);
  }
}

window.addEventListener("hashchange", route);
