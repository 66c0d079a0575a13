// The overall health score bar and the snapshot freshness badge.

import { h } from "../dom.js";
import { deltaArrow, formatChange, formatDateTime, formatDuration, formatNumber } from "../format.js";
import { stateClass, statusBadge, statusClass, statusKey, statusLabel, UNKNOWN } from "../status.js";
import { drillLink } from "./refs.js";

/** "measured on 86 % of its weight" from the API's known_weight (a share 0-1). */
export function coverageText(knownWeight) {
  return typeof knownWeight === "number" && Number.isFinite(knownWeight)
    ? `measured on ${formatNumber(Math.round(knownWeight * 100))} % of its weight`
    : null;
}

/**
 * A score's change against the previous period, as the API judged it: a trend when both periods
 * are measured on comparable shares of their weight, else the API's note ("coverage changed").
 */
export function trendLine(delta, testid = "score-trend") {
  if (!delta) return null;
  if (!delta.comparable || typeof delta.change !== "number") {
    return h(
      "p",
      { class: "score-trend muted", "data-testid": testid, "data-comparable": "false" },
      delta.note || "no comparable previous period",
    );
  }
  const change = Math.round(delta.change * 10) / 10;
  return h(
    "p",
    { class: "score-trend", "data-testid": testid, "data-comparable": "true" },
    h("span", { class: "delta-arrow", "aria-hidden": "true" }, deltaArrow(change)),
    h("span", { class: "visually-hidden" }, change > 0 ? "Up " : change < 0 ? "Down " : "Unchanged "),
    ` ${formatChange(change)} points vs the previous period (previous ${formatNumber(Math.round(delta.previous * 10) / 10)})`,
  );
}

export function healthScore(health, ctx = null) {
  const reported = statusKey(health?.status);
  const score = typeof health?.score === "number" && reported !== UNKNOWN ? health.score : null;
  const key = score === null ? UNKNOWN : reported; // no score → Unknown, never a band colour
  const bar = h(
    "div",
    {
      class: `health-bar ${statusClass(key)}`,
      role: "meter",
      "aria-label": "Company health score",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": score === null ? null : String(score),
      "aria-valuetext": score === null ? "Unknown" : `${formatNumber(score)} (${statusLabel(key)})`,
    },
    h("span", {
      class: "health-bar-fill",
      style: `width: ${score === null ? 0 : Math.max(0, Math.min(100, score))}%`,
    }),
  );
  const coverage = score === null ? null : coverageText(health.known_weight);
  return h(
    "section",
    {
      class: `health card ${statusClass(key)}`,
      "data-testid": "health-score",
      "data-status": key,
      "aria-labelledby": "health-title",
    },
    h(
      "div",
      { class: "health-head" },
      h("h2", { id: "health-title" }, "Company health"),
      h(
        "p",
        { class: "health-score-value", "data-testid": "health-score-value" },
        score === null ? "Unknown" : formatNumber(Math.round(score * 10) / 10),
        score === null ? null : h("span", { class: "muted health-of" }, " / 100"),
      ),
      h("p", { class: "health-label", "data-testid": "health-label" }, statusBadge(key, "status-badge-lg")),
      ctx ? drillLink({ drill: { kind: "score", id: "composite" } }, ctx, "Why this score?", "health-drill") : null,
    ),
    bar,
    health?.partial
      ? h("p", { class: "health-partial", "data-testid": "health-partial" }, health.partial)
      : null,
    coverage ? h("p", { class: "health-coverage muted", "data-testid": "health-coverage" }, coverage) : null,
    score === null ? null : trendLine(health.delta, "health-trend"),
    health?.reason || key === UNKNOWN
      ? h(
          "p",
          { class: "health-reason", "data-testid": "health-reason" },
          health?.reason || "No health score was computed for this period.",
        )
      : null,
  );
}

/** snapshot + the time it was fetched (age grows while the page stays open). */
export function freshnessBadge(snapshot, fetchedAt) {
  if (!snapshot || !snapshot.computed_at) {
    return h(
      "span",
      {
        class: `freshness freshness-none ${stateClass("none")}`,
        "data-testid": "freshness-badge",
        "data-stale": "true",
        title: "No snapshot has been computed for this tenant yet",
      },
      "No snapshot yet",
    );
  }
  const age = typeof snapshot.age_s === "number" ? snapshot.age_s + (Date.now() - fetchedAt) / 1000 : null;
  const max = snapshot.max_staleness_s;
  const stale = Boolean(snapshot.stale) || (age !== null && typeof max === "number" && age > max);
  const every =
    typeof snapshot.refresh_interval_s === "number" ? ` · refreshed every ${formatDuration(snapshot.refresh_interval_s)}` : "";
  const text = stale
    ? `Stale · updated ${formatDuration(age)} ago${typeof max === "number" ? ` (stale after ${formatDuration(max)})` : ""}`
    : `Fresh · updated ${age === null ? formatDateTime(snapshot.computed_at) : `${formatDuration(age)} ago`}${every}`;
  return h(
    "span",
    {
      class: `freshness freshness-${stale ? "stale" : "fresh"} ${stateClass(stale ? "stale" : "fresh")}`,
      "data-testid": "freshness-badge",
      "data-stale": String(stale),
      title: `Snapshot computed ${formatDateTime(snapshot.computed_at)}`,
    },
    h("span", { "aria-hidden": "true" }, stale ? "⚠ " : "● "),
    text,
    h("span", { class: "visually-hidden" }, ` (snapshot computed ${formatDateTime(snapshot.computed_at)})`),
  );
}
