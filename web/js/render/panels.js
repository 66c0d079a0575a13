// Panels of a dashboard, rendered by `kind`. Unknown kinds get a notice, never a guess.

import { h } from "../dom.js";
import { kpiTile } from "./kpi.js";

const RENDERERS = {
  kpi_tiles: (panel, ctx) =>
    (panel.items || []).length
      ? h(
          "div",
          { class: "kpi-grid" },
          panel.items.map((item) => kpiTile(item, ctx.onEvidence)),
        )
      : h("p", { class: "notice" }, "No KPIs in this panel yet."),
  not_built: (panel) =>
    h(
      "p",
      { class: "notice notice-not-built", "data-testid": "panel-notice" },
      panel.reason || "This panel is not built yet.",
    ),
};

function unsupported() {
  return h(
    "p",
    { class: "notice notice-unsupported", "data-testid": "panel-notice" },
    "This panel type is not supported by this version of the cockpit",
  );
}

export function renderPanel(panel, ctx) {
  const titleId = `panel-title-${panel.id}`;
  const render = RENDERERS[panel.kind] || unsupported;
  return h(
    "section",
    {
      class: `panel panel-kind-${panel.kind}`,
      "data-testid": `panel-${panel.id}`,
      "data-kind": panel.kind,
      "aria-labelledby": titleId,
    },
    h("h2", { id: titleId, class: "panel-title" }, panel.title || panel.id),
    render(panel, ctx),
  );
}

export function renderPanels(panels, ctx) {
  if (!panels || !panels.length) return h("p", { class: "notice" }, "This dashboard has no panels.");
  return h(
    "div",
    { class: "panels" },
    panels.map((p) => renderPanel(p, ctx)),
  );
}
