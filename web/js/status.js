import { h } from "./dom.js";

// The one status map of the web app: every page (cockpit, drill-downs, roll-up, monitoring, admin)
// prints a status through these functions and colours it with the classes of css/status.css
// (no other stylesheet holds a status colour set; tests/unit/test_web_shell.py checks it).
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
export function statusBadge(status, extraClass = "", text = null, testid = null) {
  const key = statusKey(status);
  const badge = h(
    "span",
    { class: `status-badge ${statusClass(key)} ${extraClass}`.trim(), "data-status": key, "data-testid": testid },
    h("span", { class: "status-icon", "aria-hidden": "true" }, statusIcon(key)),
    ` ${statusLabel(key)}`,
  );
  if (!text || text === statusLabel(key)) return badge;
  return h("span", { class: "status-labelled" }, badge, h("span", { class: "status-text" }, ` ${text}`));
}

// States that are not verdicts (a run's or a check's result, a snapshot's freshness, a KPI
// version's lifecycle) keep their own word and take the colour of the status of the same meaning:
// a failed run is red, a skipped one yellow, a stale snapshot orange. Anything else is grey. The page
// prints the state's word, never a status label, so a result never reads as a verdict.
const STATE_STATUS = {
  success: "healthy",
  pass: "healthy",
  passed: "healthy",
  ok: "healthy",
  fresh: "healthy",
  active: "healthy",
  skipped: "attention",
  warn: "warning",
  warning: "warning",
  running: "warning",
  partial: "warning",
  stale: "warning",
  deprecated: "warning",
  fail: "critical",
  failed: "critical",
  error: "critical",
  failure: "critical",
};

/** The status class (css/status.css) that colours a state's word. */
export function stateClass(state) {
  return statusClass(STATE_STATUS[String(state ?? "").toLowerCase()] || UNKNOWN);
}

/** A state's word in a pill coloured as its status; `text` when the word shown differs. */
export function statePill(state, { text = state, testid = null } = {}) {
  return h("span", { class: `pill ${stateClass(state)}`, "data-testid": testid }, text ?? "unknown");
}
