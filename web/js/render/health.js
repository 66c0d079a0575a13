// The overall health score bar and the snapshot freshness badge.

import { h } from "../dom.js";
import { formatDateTime, formatDuration, formatNumber, statusKey } from "../format.js";
import { statusBadge } from "./kpi.js";
import { drillLink } from "./refs.js";

export function healthScore(health, ctx = null) {
  const reported = statusKey(health?.status);
  const score = typeof health?.score === "number" && reported !== "unknown" ? health.score : null;
  const key = score === null ? "unknown" : reported; // no score → Unknown, never a band colour
  const label = key === "unknown" ? "Unknown" : health.label;
  const bar = h(
    "div",
    {
      class: `health-bar status-${key}`,
      role: "meter",
      "aria-label": "Company health score",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": score === null ? null : String(score),
      "aria-valuetext": score === null ? "Unknown" : `${formatNumber(score)} (${label})`,
    },
    h("span", {
      class: "health-bar-fill",
      style: `width: ${score === null ? 0 : Math.max(0, Math.min(100, score))}%`,
    }),
  );
  const dims =
    typeof health?.known_dimensions === "number"
      ? h("span", { class: "muted" }, ` · dimensions with data: ${formatNumber(health.known_dimensions)}`)
      : null;
  return h(
    "section",
    {
      class: `health card status-${key}`,
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
        score === null ? [h("span", { "aria-hidden": "true" }, "? "), "Unknown"] : formatNumber(score),
      ),
      key === "unknown"
        ? null
        : h(
            "p",
            { class: "health-label", "data-testid": "health-label" },
            statusBadge(key, "status-badge-lg", label),
          ),
      ctx ? drillLink({ drill: { kind: "score", id: "composite" } }, ctx, "Why this score?", "health-drill") : null,
    ),
    bar,
    health?.reason || key === "unknown"
      ? h(
          "p",
          { class: "health-reason", "data-testid": "health-reason" },
          health?.reason || "No health score was computed for this period.",
          dims,
        )
      : dims
        ? h("p", { class: "health-reason" }, dims)
        : null,
  );
}

/** snapshot + the time it was fetched (age grows while the page stays open). */
export function freshnessBadge(snapshot, fetchedAt) {
  if (!snapshot || !snapshot.computed_at) {
    return h(
      "span",
      {
        class: "freshness freshness-none",
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
  const text = stale
    ? `Stale · updated ${formatDuration(age)} ago${typeof max === "number" ? ` (max ${formatDuration(max)})` : ""}`
    : `Fresh · updated ${age === null ? formatDateTime(snapshot.computed_at) : `${formatDuration(age)} ago`}`;
  return h(
    "span",
    {
      class: `freshness ${stale ? "freshness-stale" : "freshness-fresh"}`,
      "data-testid": "freshness-badge",
      "data-stale": String(stale),
      title: snapshot.computed_at,
    },
    h("span", { "aria-hidden": "true" }, stale ? "⚠ " : "● "),
    text,
    h("span", { class: "visually-hidden" }, ` (snapshot computed ${formatDateTime(snapshot.computed_at)})`),
  );
}
