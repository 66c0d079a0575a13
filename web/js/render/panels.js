// Panels of a dashboard, rendered by `kind` (docs/cockpit-api.md). Unknown kinds get a notice,
// never a guess. Every number shown comes from the API item, with its status in text and its
// evidence (a KPI run opens the evidence drawer; signals and scores link to the drill-down).

import { h, svg } from "../dom.js";
import { formatDateTime, formatNumber } from "../format.js";
import { statusBadge, statusClass, statusKey, statusLabel, toneClass, UNKNOWN } from "../status.js";
import { coverageText, trendLine } from "./health.js";
import { kpiTile } from "./kpi.js";
import { drillLink, evidenceRef } from "./refs.js";
import { sparkline } from "./sparkline.js";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const shown = (item) => (isNum(item.value) ? (item.display ?? formatNumber(item.value)) : "Unknown");

function itemStatus(item) {
  return isNum(item.value) || item.value === undefined ? statusKey(item.status) : UNKNOWN;
}

function reasonLine(item) {
  return item.reason
    ? h("p", { class: "item-reason", "data-testid": "item-reason" }, item.reason)
    : null;
}

// ---- kinds --------------------------------------------------------------------------------------

function tiles(panel, ctx) {
  return (panel.items || []).length
    ? h(
        "div",
        { class: "kpi-grid" },
        panel.items.map((item) => kpiTile(item, ctx.onEvidence, ctx)),
      )
    : h("p", { class: "notice" }, "No KPIs in this panel yet.");
}

function meter(item, label) {
  const v = isNum(item.value) ? Math.max(0, Math.min(100, item.value)) : null;
  const key = v === null ? UNKNOWN : statusKey(item.status);
  return h(
    "div",
    {
      class: `meter ${statusClass(key)}`,
      role: "meter",
      "aria-label": label,
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": v === null ? null : String(v),
      "aria-valuetext": v === null ? "Unknown" : `${shown(item)} (${statusLabel(key)})`,
    },
    h("span", { class: "meter-fill", style: `width: ${v === null ? 0 : v}%` }),
  );
}

function score(panel, ctx) {
  return panel.items.map((item) => {
    const key = itemStatus(item);
    return h(
      "div",
      { class: "score-block", "data-testid": "panel-item", "data-item-id": item.id, "data-status": key },
      h(
        "p",
        { class: "score-line" },
        h("span", { class: "score-value", "data-testid": "item-value" }, shown(item)),
        isNum(item.value) ? h("span", { class: "muted" }, " / 100 ") : " ",
        statusBadge(key),
      ),
      meter(item, `${item.name} score`),
      coverageLines(item),
      reasonLine(item),
      h(
        "p",
        { class: "item-foot" },
        evidenceRef(item, ctx),
        " ",
        drillLink(item, ctx, "Why this score?"),
      ),
    );
  });
}

/** A score's coverage: the partial note the API sent, the measured share, and its trend (or
 * "coverage changed" when the previous period was measured on a different share). */
function coverageLines(item) {
  if (!isNum(item.value)) return null;
  const cov = coverageText(item.known_weight);
  return [
    item.partial ? h("p", { class: "item-partial", "data-testid": "item-partial" }, item.partial) : null,
    // a fully measured score needs no note; anything less says how much is measured
    cov && !item.partial && item.known_weight < 0.995
      ? h("p", { class: "item-coverage muted", "data-testid": "item-coverage" }, cov)
      : null,
    trendLine(item.delta, "item-trend"),
  ];
}

function dimensions(panel, ctx) {
  return h(
    "ul",
    { class: "bar-list" },
    panel.items.map((item) => {
      const key = itemStatus(item);
      return h(
        "li",
        { "data-testid": "panel-item", "data-item-id": item.id, "data-status": key },
        h(
          "div",
          { class: "bar-head" },
          drillLink(item, ctx, item.name) || h("span", {}, item.name),
          isNum(item.weight) ? h("span", { class: "muted" }, ` weight ${formatNumber(item.weight)}`) : null,
          h("span", { class: "bar-value", "data-testid": "item-value" }, shown(item)),
          "status" in item ? statusBadge(key) : null, // a cost share is not judged: no badge
        ),
        meter(item, `${item.name} score`),
        coverageLines(item),
        key === UNKNOWN ? reasonLine(item) : null,
      );
    }),
  );
}

/** A table's or bars' headline: the KPI the rows explain (an object), never free text. */
function kpiSummary(panel, ctx) {
  return panel.summary && typeof panel.summary === "object" ? summaryLine(panel.summary, ctx) : null;
}

function bars(panel, ctx) {
  const list = h(
    "ul",
    { class: "bar-list" },
    panel.items.map((item) => {
      const key = itemStatus(item);
      const max = isNum(item.max) && item.max > 0 ? item.max : 100;
      const pct = isNum(item.value) ? (100 * item.value) / max : null;
      return h(
        "li",
        { "data-testid": "panel-item", "data-item-id": item.id, "data-status": key },
        h(
          "div",
          { class: "bar-head" },
          h("span", {}, item.label || item.name),
          h("span", { class: "bar-value", "data-testid": "item-value" }, shown(item)),
          "status" in item ? statusBadge(key) : null, // a cost share is not judged: no badge
        ),
        meter({ ...item, value: pct }, item.label || item.name),
        item.series ? sparkline(item.series, item.label || item.name) : null,
        reasonLine(item),
        h("p", { class: "item-foot" }, evidenceRef(item, ctx)),
      );
    }),
  );
  return [kpiSummary(panel, ctx), list];
}

function summaryLine(summary, ctx) {
  if (!summary) return null;
  const key = summary.value === null ? UNKNOWN : statusKey(summary.status);
  return h(
    "div",
    { class: `panel-summary ${statusClass(key)}`, "data-testid": "panel-summary", "data-status": key },
    statusBadge(key, "", summary.label),
    summary.detail ? h("span", { class: "muted" }, ` ${summary.detail}`) : null,
    summary.evidence ? [" · ", evidenceRef(summary, ctx)] : null,
  );
}

function status(panel, ctx) {
  return [
    summaryLine(panel.summary, ctx),
    h(
      "ul",
      { class: "status-grid" },
      panel.items.map((item) => {
        const key = statusKey(item.status);
        return h(
          "li",
          {
            class: `status-cell ${statusClass(key)}`,
            "data-testid": "panel-item",
            "data-item-id": item.id,
            "data-status": key,
          },
          h(
            "div",
            { class: "status-name" },
            drillLink(item, ctx, item.name) || item.name,
            item.group ? h("span", { class: "muted" }, ` · ${item.group}`) : null,
          ),
          statusBadge(key),
          h("p", { class: "status-detail" }, item.detail || item.reason || ""),
        );
      }),
    ),
  ];
}

function table(panel, ctx) {
  const cols = panel.columns || [];
  const rows = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-testid": "panel-table" },
      h("caption", { class: "visually-hidden" }, panel.title),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          cols.map((c) => h("th", { scope: "col" }, c.label)),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col" }, "Evidence"),
        ),
      ),
      h(
        "tbody",
        {},
        panel.items.map((row) => {
          const key = statusKey(row.status);
          return h(
            "tr",
            { "data-testid": "panel-item", "data-item-id": row.id, "data-status": key },
            cols.map((c, i) => {
              if (c.chips) return h("td", { class: "chips" }, chips(row.chips || [], ctx));
              const cell = (row.cells || {})[c.key];
              const text = cell === null || cell === undefined ? "Unknown" : String(cell);
              const content = i === 0 ? drillLink(row, ctx, text) || text : text;
              return h(c.numeric ? "td" : i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : { class: c.numeric ? "num" : null }, content);
            }),
            h("td", {}, statusBadge(key), row.reason ? h("span", { class: "muted" }, ` ${row.reason}`) : null),
            h("td", {}, evidenceRef(row, ctx)),
          );
        }),
      ),
    ),
  );
  return [kpiSummary(panel, ctx), rows];
}

/** Control chips (`CC6.1 ●`, `AC-2 ⚠`): each a drill-down to its control, its status in words. */
function chips(list, ctx) {
  return h(
    "ul",
    { class: "chip-list" },
    list.map((chip) => {
      const key = statusKey(chip.status);
      return h(
        "li",
        { class: `chip ${statusClass(key)}`, "data-testid": "control-chip", "data-status": key, title: statusLabel(key) },
        drillLink(chip, ctx, chip.text, "control-link") || chip.text,
      );
    }),
  );
}

function timeline(panel, ctx) {
  return [
    panel.summary ? h("p", { class: "muted", "data-testid": "panel-summary" }, panel.summary) : null,
    panel.items.length
      ? h(
          "ol",
          { class: "timeline" },
          panel.items.map((item) => {
            const key = statusKey(item.status);
            return h(
              "li",
              { "data-testid": "panel-item", "data-item-id": item.id, "data-status": key },
              h(
                "p",
                { class: "timeline-head" },
                item.severity ? h("span", { class: "sev" }, item.severity) : null,
                " ",
                drillLink(item, ctx, item.title) || h("strong", {}, item.title),
                item.at ? h("time", { class: "muted", datetime: item.at }, ` ${formatDateTime(item.at)}`) : null,
              ),
              h(
                "p",
                { class: "timeline-detail" },
                statusBadge(key),
                item.state ? h("span", { class: "incident-state" }, ` ${item.state[0].toUpperCase()}${item.state.slice(1)}`) : "",
                item.service ? ` · ${item.service}` : "",
                item.display ? [" · duration ", h("span", { "data-testid": "item-value" }, item.display)] : "",
                item.detail ? ` · ${item.detail}` : "",
                item.postmortem ? [" · → ", item.postmortem.url
                  ? h("a", { href: item.postmortem.url, target: "_blank", rel: "noopener noreferrer", "data-testid": "postmortem-link" }, item.postmortem.label)
                  : item.postmortem.label] : "",
              ),
              h("p", { class: "item-foot" }, evidenceRef(item, ctx)),
            );
          }),
        )
      : h("p", { class: "notice" }, "Nothing in this period."),
  ];
}

/** A list item's own page in the tool it came from (a pull request): https links only. */
function externalLink(item) {
  if (typeof item.href !== "string" || !item.href.startsWith("https://")) return null;
  return h(
    "a",
    { href: item.href, rel: "noopener noreferrer", target: "_blank", "data-testid": "item-link" },
    item.title,
  );
}

function list(panel, ctx) {
  const items = panel.items;
  const shown = isNum(panel.shown) ? panel.shown : items.length;
  const rows = items.map((item, n) => {
    const key = statusKey(item.status);
    return h(
      "li",
      { "data-testid": "panel-item", "data-item-id": item.id, "data-status": key, hidden: n >= shown },
      statusBadge(key),
      " ",
      drillLink(item, ctx, item.title) || externalLink(item) || h("span", {}, item.title),
      item.detail ? h("p", { class: "muted item-detail" }, item.detail) : null,
      h("p", { class: "item-foot" }, evidenceRef(item, ctx)),
    );
  });
  const hiddenCount = items.length - Math.min(shown, items.length);
  const more = hiddenCount
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-link show-all",
          "data-testid": "show-all",
          "aria-expanded": "false",
          onclick: (e) => {
            rows.forEach((r) => {
              r.hidden = false;
            });
            e.currentTarget.remove();
          },
        },
        `Show all ${formatNumber(items.length)} (${formatNumber(hiddenCount)} more)`,
      )
    : null;
  return [
    panel.summary ? h("p", { class: "muted", "data-testid": "panel-summary" }, panel.summary) : null,
    items.length ? h("ul", { class: "risk-list" }, rows) : null,
    more,
  ];
}

/** Funnel steps drawn as the share of the first step the API sent (`share`, 0-100): every bar sits
 * in a track of the same width, so 43.9 % is drawn at 43.9 % of the first step's bar. */
function funnel(panel, ctx) {
  return h(
    "ol",
    { class: "funnel" },
    panel.items.map((item) => {
      const share = isNum(item.share) ? Math.max(0, Math.min(100, item.share)) : null;
      return h(
        "li",
        { "data-testid": "panel-item", "data-item-id": item.id, "data-share": share === null ? null : String(share) },
        h("span", { class: "funnel-label" }, item.label),
        h(
          "span",
          { class: "funnel-track", "data-testid": "funnel-track" },
          h("span", { class: "funnel-bar", "data-testid": "funnel-bar", style: `width: ${share === null ? 0 : share}%` }),
        ),
        h(
          "span",
          { class: "funnel-figures" },
          h("span", { class: "bar-value", "data-testid": "item-value" }, shown(item)),
          share === null ? null : h("span", { class: "muted" }, ` (${formatNumber(share)}%)`),
          " ",
          evidenceRef(item, ctx),
        ),
      );
    }),
  );
}

function distribution(panel, ctx) {
  const total = panel.items.reduce((sum, i) => sum + (isNum(i.value) ? i.value : 0), 0);
  const width = 300;
  let x = 0;
  const segments = panel.items.map((item) => {
    const w = total > 0 && isNum(item.value) ? (width * item.value) / total : 0;
    const rect = svg("rect", { x: x.toFixed(1), y: 0, width: w.toFixed(1), height: 18, class: `seg ${toneClass(item.tone)}`, "data-item-id": item.id });
    x += w;
    return rect;
  });
  return [
    total > 0
      ? svg(
          "svg",
          { class: "distribution", viewBox: `0 0 ${width} 18`, role: "img", "aria-label": panel.title },
          segments,
        )
      : null,
    h(
      "ul",
      { class: "legend" },
      panel.items.map((item) =>
        h(
          "li",
          { "data-testid": "panel-item", "data-item-id": item.id, "data-tone": item.tone || null },
          h("span", { class: `swatch ${toneClass(item.tone)}`, "data-testid": "swatch", "aria-hidden": "true" }),
          ` ${item.label}: `,
          h("strong", { "data-testid": "item-value" }, shown(item)),
          // the API's display may already carry the share ("8 (10%)"): never print it twice
          isNum(item.share) && !String(shown(item)).includes("%") ? ` (${formatNumber(item.share)}%)` : "",
          " ",
          evidenceRef(item, ctx),
        ),
      ),
    ),
  ];
}

function links(panel, ctx) {
  return h(
    "nav",
    { class: "drill-nav", "aria-label": `${panel.title} links` },
    panel.items.map((item) => drillLink(item, ctx, item.label, "drill-nav-link")),
  );
}

function notBuilt(panel) {
  return h(
    "p",
    { class: "notice notice-not-built", "data-testid": "panel-notice" },
    panel.reason || "No data for this panel yet.",
  );
}

const RENDERERS = {
  kpi_tiles: tiles,
  score,
  dimensions,
  bars,
  status,
  table,
  timeline,
  list,
  funnel,
  distribution,
  links,
  not_built: notBuilt,
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
  const width = panel.kind === "kpi_tiles" || panel.width === "full" ? "full" : "half";
  return h(
    "section",
    {
      class: `panel panel-kind-${panel.kind} panel-${width}`,
      "data-testid": `panel-${panel.id}`,
      "data-kind": panel.kind,
      "aria-labelledby": titleId,
    },
    h("h2", { id: titleId, class: "panel-title" }, panel.title || panel.id),
    render({ ...panel, items: panel.items || [] }, ctx),
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
