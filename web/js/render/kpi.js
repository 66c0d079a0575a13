// One KPI tile: name, display value, status (colour + icon + text), neutral delta arrow,
// sparkline, target/critical thresholds, DORA benchmark level, and an evidence button.

import { h } from "../dom.js";
import { deltaArrow, etaText, formatChange, formatDateTime, formatInUnit, formatNumber } from "../format.js";
import { statusBadge, statusClass, statusKey, UNKNOWN } from "../status.js";
import { drillLink, evidenceRef } from "./refs.js";
import { sparkline } from "./sparkline.js";

export { statusBadge }; // the one status badge (status.js), re-exported for the renderers

const hasValue = (item) => typeof item.value === "number" && Number.isFinite(item.value);

function deltaLine(item) {
  const delta = item.delta;
  if (!delta || typeof delta.change !== "number") return null;
  const change = formatChange(delta.change, item.unit);
  const previous = typeof delta.previous === "number" ? ` (previous ${formatInUnit(delta.previous, item.unit)})` : "";
  return h(
    "p",
    { class: "kpi-delta", "data-testid": "kpi-delta" },
    h("span", { class: "delta-arrow", "aria-hidden": "true" }, deltaArrow(delta.change)),
    h(
      "span",
      { class: "visually-hidden" },
      delta.change > 0 ? "Up " : delta.change < 0 ? "Down " : "Unchanged ",
    ),
    ` ${change} vs previous period${previous}`,
  );
}

function thresholds(item) {
  const parts = [];
  if (item.target) parts.push(h("span", {}, h("abbr", { title: "Target" }, "Target"), ` ${item.target}`));
  if (item.critical) parts.push(h("span", {}, "Critical ", item.critical));
  return parts.length ? h("p", { class: "kpi-thresholds" }, parts) : null;
}

function evidenceButton(item, onEvidence, ctx) {
  const ev = item.evidence;
  const deep = ctx ? drillLink(item, ctx, item.kpi_id ? "Deep dive" : "Details") : null;
  if (ev && !ev.run_id && ctx) {
    return h("p", { class: "kpi-evidence" }, evidenceRef(item, ctx), deep ? [" · ", deep] : null);
  }
  if (!ev || !ev.run_id) {
    return h("p", { class: "kpi-evidence muted" }, "No evidence yet for this value.", deep ? [" ", deep] : null);
  }
  return h(
    "p",
    { class: "kpi-evidence" },
    h(
      "button",
      {
        type: "button",
        class: "btn btn-link",
        "data-testid": "evidence-link",
        "data-run-id": ev.run_id,
        "data-href": ev.href || null,
        "aria-haspopup": "dialog",
        "aria-label": `Evidence for ${item.name}`,
        onclick: (e) => onEvidence(ev, item, e.currentTarget),
      },
      "Evidence",
    ),
    h(
      "span",
      { class: "muted" },
      ev.status ? ` · run ${ev.status}` : "",
      ev.computed_at ? ` · ${formatDateTime(ev.computed_at)}` : "",
    ),
    deep ? [" · ", deep] : null,
  );
}

/** The DORA benchmark level of a DORA KPI ("DORA elite"): a level on the DORA report's scale, not
 * a second status, so it never reads like one. */
export function doraLevel(level) {
  return h(
    "span",
    {
      class: "level-badge",
      "data-testid": "kpi-level",
      title: "DORA performance level (the DORA report's benchmark: elite, high, medium, low)",
    },
    `DORA ${level}`,
  );
}

export function kpiTile(item, onEvidence, ctx = null) {
  const known = hasValue(item);
  const unknown = !known;
  const key = known ? statusKey(item.status) : UNKNOWN; // a value we do not have is never green
  const id = item.kpi_id || item.id;
  const headingId = `kpi-${id}-name`;
  return h(
    "article",
    {
      class: `kpi-tile ${statusClass(key)}`,
      "data-testid": "kpi-tile",
      "data-kpi-id": id,
      "data-status": key,
      "aria-labelledby": headingId,
    },
    h(
      "header",
      { class: "kpi-head" },
      h("h3", { id: headingId, class: "kpi-name" }, item.name || id),
      item.level ? doraLevel(item.level) : null,
    ),
    h(
      "p",
      { class: `kpi-value ${statusClass(key, "text")}`, "data-testid": "kpi-value" },
      unknown ? "Unknown" : (item.display ?? formatNumber(item.value)),
    ),
    h("p", { class: "kpi-status" }, statusBadge(key)),
    item.maintenance
      ? h(
          "p",
          { class: "maintenance-badge", "data-testid": "maintenance-badge", title: "Paused by an admin" },
          `Paused: ${item.maintenance.reason}${item.maintenance.eta ? ` · ETA ${etaText(item.maintenance.eta)}` : ""}`,
        )
      : null,
    unknown && item.reason ? h("p", { class: "kpi-reason", "data-testid": "kpi-reason" }, item.reason) : null,
    !unknown && item.reason ? h("p", { class: "kpi-reason muted", "data-testid": "kpi-note" }, item.reason) : null,
    deltaLine(item),
    sparkline(item.series, item.name || id),
    thresholds(item),
    evidenceButton(item, onEvidence, ctx),
  );
}
