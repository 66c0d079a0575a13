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

/** Evidence of one number: the run drawer for a KPI run, otherwise where it was computed from. */
export function evidenceRef(item, ctx) {
  const ev = item.evidence;
  if (!ev) return null;
  if (ev.run_id) {
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
  const sources = (ev.sources || [])
    .map((s) => `${s.object}${isNum(s.count) ? ` ×${formatNumber(s.count)}` : ""}`)
    .join(", ");
  const what = ev.type === "score" ? `score breakdown (${ev.node || "composite"})` : sources || ev.type;
  return h(
    "span",
    {
      class: "evidence-ref muted",
      "data-testid": "evidence-ref",
      "data-evidence-type": ev.type || "",
      "data-href": ev.href || null,
      title: ev.href || "",
    },
    `from ${what}`,
  );
}

