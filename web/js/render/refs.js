// References from a number to what backs it: the drill-down link and the evidence reference.

import { h } from "../dom.js";
import { formatNumber } from "../format.js";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

export { isNum };

/** A link to an item's drill-down (in-app hash), or null. */
export function drillLink(item, ctx, text, testid = "drill-link") {
  if (!item?.drill?.kind || !ctx.drillHref) return null;
  return h(
    "a",
    {
      class: "drill-link",
      href: ctx.drillHref(item.drill),
      "data-testid": testid,
      "data-drill-kind": item.drill.kind,
      "data-drill-id": item.drill.id || "",
    },
    text,
  );
}

const NODE_NAMES = {
  composite: "composite",
  reliability: "reliability",
  security: "security",
  product: "product adoption",
  financials: "financials",
  efficiency: "efficiency",
};

// "?.nps_response": a source the API could not name (no signal of that kind was read)
const objectName = (object) => String(object || "").replace(/^\?\./, "");

/** What a number was folded from: "pagerduty.incident ×120"; sources that read nothing are
 * "no nps_response signals in this window", never a raw "?." or "×0". */
function sourcesText(ev) {
  const sources = (ev.sources || []).filter((s) => s && s.object);
  const read = sources.filter((s) => !isNum(s.count) || s.count > 0);
  if (read.length) {
    return read.map((s) => `${objectName(s.object)}${isNum(s.count) ? ` ×${formatNumber(s.count)}` : ""}`).join(", ");
  }
  if (sources.length) {
    const kinds = [...new Set(sources.map((s) => objectName(s.object).split(".").pop()))];
    return `no ${kinds.join(", ")} signals in this window`;
  }
  return ev.type === "signals" || ev.type === "signal" ? "signals" : null;
}

/** Evidence of one number: the run drawer for a KPI run, otherwise where it was computed from. */
export function evidenceRef(item, ctx) {
  const ev = item.evidence;
  if (!ev) return null;
  if (ev.run_id && ev.type === "kpi_run") {
    // a row delivered with a KPI run: the run (clickable) and the signals behind this very row
    const what = sourcesText(ev);
    return [runButton(ev, item, ctx), what ? [" · ", sourceSpan(ev, what)] : null];
  }
  if (ev.run_id) return runButton(ev, item, ctx);
  const what = ev.type === "score" ? `score breakdown (${NODE_NAMES[ev.node] || ev.node || "composite"})` : sourcesText(ev);
  if (!what) return null;
  return sourceSpan(ev, what);
}

function runButton(ev, item, ctx) {
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-link evidence-ref",
      "data-testid": "evidence-link",
      "data-run-id": ev.run_id,
      "data-href": ev.href || null,
      "aria-haspopup": "dialog",
      "aria-label": `Evidence for ${item.name || item.title || item.id}`,
      onclick: (e) => ctx.onEvidence(ev, item, e.currentTarget),
    },
    "Evidence",
  );
}

function sourceSpan(ev, what) {
  return h(
    "span",
    {
      class: "evidence-ref muted",
      "data-testid": "evidence-ref",
      "data-evidence-type": ev.type || "",
      "data-href": ev.href || null,
      title: ev.href || "",
    },
    what.startsWith("no ") ? what : `from ${what}`,
  );
}

