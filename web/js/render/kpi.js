// One KPI tile: name, display value, status (colour + icon + text), neutral delta arrow,
// sparkline, target/critical thresholds, DORA level badge, and an evidence button.

import { h } from "../dom.js";
import {
  deltaArrow,
  formatChange,
  formatDateTime,
  formatNumber,
  statusIcon,
  statusKey,
  statusLabel,
} from "../format.js";
import { drillLink, evidenceRef } from "./refs.js";
import { sparkline } from "./sparkline.js";

export function statusBadge(status, extraClass = "", label = null) {
  const key = statusKey(status);
  const text = key === "unknown" ? statusLabel(key) : label || statusLabel(key);
  return h(
    "span",
    { class: `status-badge status-${key} ${extraClass}`.trim(), "data-status": key },
    h("span", { class: "status-icon", "aria-hidden": "true" }, statusIcon(key)),
    ` ${text}`,
  );
}

function isUnknown(item) {
  return statusKey(item.status) === "unknown" || item.value === null || item.value === undefined;
}

function deltaLine(item) {
  const delta = item.delta;
  if (!delta || typeof delta.change !== "number") return null;
  const change = formatChange(delta.change, item.unit);
  const previous = typeof delta.previous === "number" ? ` (previous ${formatNumber(delta.previous)})` : "";
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
      ` · run ${ev.status || "unknown"}`,
      ev.computed_at ? ` · ${formatDateTime(ev.computed_at)}` : "",
    ),
    deep ? [" · ", deep] : null,
  );
}

export function kpiTile(item, onEvidence, ctx = null) {
  const unknown = isUnknown(item);
  const key = unknown ? "unknown" : statusKey(item.status); // a value we do not have is never green
  const id = item.kpi_id || item.id;
  const headingId = `kpi-${id}-name`;
  return h(
    "article",
    {
      class: `kpi-tile status-${key}`,
      "data-testid": "kpi-tile",
      "data-kpi-id": id,
      "data-status": key,
      "aria-labelledby": headingId,
    },
    h(
      "header",
      { class: "kpi-head" },
      h("h3", { id: headingId, class: "kpi-name" }, item.name || id),
      item.level
        ? h(
            "span",
            { class: "level-badge", "data-testid": "kpi-level", title: "DORA performance level" },
            item.level,
          )
        : null,
    ),
    h(
      "p",
      { class: "kpi-value", "data-testid": "kpi-value" },
      unknown ? "Unknown" : (item.display ?? formatNumber(item.value)),
    ),
    h("p", { class: "kpi-status" }, statusBadge(key)),
    item.maintenance
      ? h(
          "p",
          { class: "maintenance-badge", "data-testid": "maintenance-badge", title: "Paused by an admin" },
          `Paused: ${item.maintenance.reason}${item.maintenance.eta ? ` · ETA ${item.maintenance.eta}` : ""}`,
        )
      : null,
    unknown && item.reason ? h("p", { class: "kpi-reason", "data-testid": "kpi-reason" }, item.reason) : null,
    !unknown && item.reason ? h("p", { class: "kpi-reason muted" }, item.reason) : null,
    deltaLine(item),
    sparkline(item.series, item.name || id),
    thresholds(item),
    evidenceButton(item, onEvidence, ctx),
  );
}
