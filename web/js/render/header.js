// The always-visible chrome: tenant/environment chip (a select with several tenants),
// signed-in user + sign out, persona switcher, period selector, freshness slot and refresh.

import { h, replaceChildren } from "../dom.js";
import { personaLabel, PERSONA_TITLES } from "../format.js";
import { PERIODS } from "../router.js";

export function renderSignedOutHeader(slots) {
  replaceChildren(slots.context);
  replaceChildren(slots.toolbar);
  slots.toolbar.hidden = true;
}

function tenantChip(me, route, config, onTenant) {
  const tenants = me.tenants || [];
  const current = route.tenantInfo;
  const name =
    tenants.length > 1
      ? [
          h("label", { for: "tenant-select", class: "visually-hidden" }, "Tenant"),
          h(
            "select",
            {
              id: "tenant-select",
              "data-testid": "tenant-select",
              onchange: (e) => onTenant(e.target.value),
            },
            tenants.map((t) =>
              h("option", { value: t.id, selected: t.id === current.id }, `${t.name} (${t.role})`),
            ),
          ),
        ]
      : h("span", { class: "tenant-name" }, current.name);
  return h(
    "div",
    {
      class: "tenant-chip",
      "data-testid": "tenant-chip",
      "data-tenant": current.id,
      "data-environment": current.environment || "",
      title: `Tenant ${current.name} · environment ${current.environment || "unknown"} · deployment ${config.environment || "unknown"}`,
    },
    h("span", { class: "chip-label", "aria-hidden": "true" }, "Tenant"),
    name,
    h(
      "span",
      { class: `env-chip env-${current.environment || "unknown"}`, "data-testid": "environment-chip" },
      current.environment || "unknown env",
    ),
  );
}

function personaSwitcher(route, onPersona) {
  const personas = route.tenantInfo.personas || [];
  const onKeydown = (event) => {
    const buttons = [...event.currentTarget.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const next = {
      ArrowRight: i + 1,
      ArrowDown: i + 1,
      ArrowLeft: i - 1,
      ArrowUp: i - 1,
      Home: 0,
      End: buttons.length - 1,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    buttons[(next + buttons.length) % buttons.length].focus();
  };
  return h(
    "nav",
    {
      class: "persona-switcher",
      "aria-label": "Dashboards",
      "data-testid": "persona-switcher",
      onkeydown: onKeydown,
    },
    h(
      "ul",
      {},
      personas.map((p) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "persona-btn",
              "data-persona": p,
              "data-focus-key": `persona-${p}`,
              "aria-current": p === route.persona ? "page" : null,
              title: PERSONA_TITLES[p] || null,
              onclick: () => onPersona(p),
            },
            personaLabel(p),
          ),
        ),
      ),
    ),
  );
}

function periodSelect(route, onPeriod) {
  return h(
    "div",
    { class: "period" },
    h("label", { for: "period-select" }, "Period"),
    h(
      "select",
      {
        id: "period-select",
        "data-testid": "period-select",
        "data-focus-key": "period",
        onchange: (e) => onPeriod(e.target.value),
      },
      PERIODS.map((p) => h("option", { value: p, selected: p === route.period }, `Last ${p}`)),
    ),
  );
}

const ADMIN_ROLES = new Set(["platform_admin", "tenant_admin", "auditor"]);

/** Links to the separate consoles the caller's roles open (the APIs enforce the same rules). */
function consoleLinks(me, route) {
  const tenants = me.tenants || [];
  const current = route?.tenantInfo;
  const links = [];
  if (current?.role) {
    // Every tenant role may view the KPI run log (runs:view), so every member gets the link.
    links.push(
      h(
        "a",
        {
          class: "btn btn-quiet",
          href: `monitoring.html#/${encodeURIComponent(current.id)}/dashboards`,
          "data-testid": "monitoring-link",
        },
        "KPI runs",
      ),
    );
  }
  if (current && ADMIN_ROLES.has(current.role)) {
    links.push(h("a", { class: "btn btn-quiet", href: "admin.html", "data-testid": "admin-link" }, "Admin"));
  }
  if (tenants.some((t) => t.role === "platform_admin")) {
    links.push(
      h("a", { class: "btn btn-quiet", href: "rollup.html", "data-testid": "rollup-link" }, "Executive roll-up"),
    );
  }
  return links;
}

/** Re-render the header; keeps keyboard focus on the equivalent control. */
export function renderHeader(
  slots,
  { me, route, config, onTenant, onPersona, onPeriod, onRefresh, onLogout },
) {
  const focusKey =
    document.activeElement?.dataset?.focusKey ||
    (document.activeElement?.id === "tenant-select" ? "tenant" : null);
  replaceChildren(
    slots.context,
    tenantChip(me, route, config, onTenant),
    h(
      "div",
      { class: "user" },
      ...consoleLinks(me, route),
      h("span", { class: "user-email", "data-testid": "user-email" }, me.user?.email || me.user?.sub || ""),
      h(
        "button",
        { type: "button", class: "btn btn-quiet", "data-testid": "logout", onclick: onLogout },
        "Sign out",
      ),
    ),
  );
  replaceChildren(
    slots.toolbar,
    personaSwitcher(route, onPersona),
    h(
      "div",
      { class: "toolbar-right" },
      periodSelect(route, onPeriod),
      h("span", { id: "freshness-slot" }),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-quiet",
          "data-testid": "refresh",
          "data-focus-key": "refresh",
          onclick: onRefresh,
        },
        "Refresh",
      ),
    ),
  );
  slots.toolbar.hidden = false;
  if (focusKey === "tenant") document.getElementById("tenant-select")?.focus();
  else if (focusKey) document.querySelector(`[data-focus-key="${focusKey}"]`)?.focus();
}
