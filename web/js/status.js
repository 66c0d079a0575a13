import { h } from "./dom.js";

// The one status map of the web app: every page (cockpit, drill-downs, roll-up, monitoring, admin)
// prints a status through these functions and colours it with the classes of css/status.css.
// The vocabulary is the API's `Band` (companyos.model.verdict): the page shows the status the
// API sent and never derives one from a number; anything unrecognised is Unknown (never green).

export const STATUSES = ["excellent", "healthy", "attention", "warning", "critical", "unknown"];
/** The status of anything not known (no value, an unrecognised word): never green. */
export const UNKNOWN = "unknown";

export const STATUS_LABELS = {
  excellent: "Excellent",
  healthy: "Healthy",
  attention: "Attention",
  warning: "Warning",
  critical: "Critical",
  unknown: "Unknown",
};

// Shape cues so status is never conveyed by colour alone (the label is always shown too).
export const STATUS_ICONS = {
  excellent: "★",
  healthy: "●",
  attention: "◆",
  warning: "▲",
  critical: "✖",
  unknown: "○",
};

/** An API status word normalised to the vocabulary; anything else is unknown. */
export function statusKey(status) {
  return Object.hasOwn(STATUS_LABELS, status) ? status : UNKNOWN;
}

export function statusLabel(status) {
  return STATUS_LABELS[statusKey(status)];
}

export function statusIcon(status) {
  return STATUS_ICONS[statusKey(status)];
}

/**
 * CSS class of a status (css/status.css): `status-<key>` on a badge, tile, cell, meter or card;
 * `status-text-<key>` colours only the text, `status-border-<key>` only the accent border.
 */
export function statusClass(status, part = "") {
  return `status-${part ? `${part}-` : ""}${statusKey(status)}`;
}

// Tones of values that are not statuses but carry a meaning (an NPS bucket, a distribution
// segment): coloured with the status tokens so red always means bad and green good.
export const TONES = ["negative", "neutral", "positive"];

export function toneClass(tone) {
  return `tone-${TONES.includes(tone) ? tone : "none"}`;
}

/**
 * The status badge: icon + the status's label, nothing else inside it (so every badge on every
 * page reads as one of the six statuses). A `text` describing what has that status (a panel's
 * headline, an incident's state) is printed after the badge, outside it.
 */
export function statusBadge(status, extraClass = "", text = null) {
  const key = statusKey(status);
  const badge = h(
    "span",
    { class: `status-badge ${statusClass(key)} ${extraClass}`.trim(), "data-status": key },
    h("span", { class: "status-icon", "aria-hidden": "true" }, statusIcon(key)),
    ` ${statusLabel(key)}`,
  );
  if (!text || text === statusLabel(key)) return badge;
  return h("span", { class: "status-labelled" }, badge, h("span", { class: "status-text" }, ` ${text}`));
}
