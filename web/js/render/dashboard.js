// The dashboard body: title + period, health score, and the panels.

import { h, replaceChildren } from "../dom.js";
import { etaText, formatDate, formatNumber, personaLabel, PERSONA_TITLES } from "../format.js";
import { healthScore } from "./health.js";
import { renderPanels } from "./panels.js";

export function renderDashboard(container, data, ctx) {
  const period = data.period || {};
  const range =
    period.start && period.end
      ? `${formatDate(period.start)} – ${formatDate(period.end)}${typeof period.days === "number" ? ` (${formatNumber(period.days)} days)` : ""}`
      : period.key || "";
  replaceChildren(
    container,
    h(
      "div",
      { class: "dash-head" },
      h(
        "h1",
        { id: "dashboard-title", "data-testid": "dashboard-title" },
        `${personaLabel(data.persona)} dashboard`,
        h("span", { class: "dash-subtitle" }, ` — ${data.title || PERSONA_TITLES[data.persona] || ""}`),
      ),
      h("p", { class: "muted", "data-testid": "period-range" }, `${data.tenant?.name || ""} · ${range}`),
    ),
    maintenanceBanner(data.maintenance),
    healthScore(data.health, ctx),
    renderPanels(data.panels, ctx),
  );
}

// KPIs paused by an admin (maintenance): their values are the last delivered ones and will not
// move until the pause ends. Reason, scope and ETA come from the pause itself.
export function maintenanceLine(m) {
  const scope = m.scope === "entities" && m.entities?.length ? ` (${m.entities.join(", ")})` : "";
  return `${m.reason}${scope}${m.eta ? ` · ETA ${etaText(m.eta)}` : ""}`;
}

function maintenanceBanner(list) {
  if (!list || !list.length) return null;
  return h(
    "section",
    { class: "card maintenance-card", "data-testid": "maintenance-banner", role: "status" },
    h("h2", {}, `Maintenance: ${list.length} KPI${list.length === 1 ? "" : "s"} paused`),
    h("ul", {}, list.map((m) => h("li", { "data-kpi-id": m.kpi_id }, h("strong", {}, m.name || m.kpi_id), ` — ${maintenanceLine(m)}`))),
  );
}
