// Endpoint metrics, service-graph edges, trace / log deep links and code-diff links of the
// drill-down pages. Every number is the API's (rows delivered with the slo_attainment run, with
// the run as evidence); this module only prints them.

import { h } from "../dom.js";
import { formatDateTime, formatNumber } from "../format.js";
import { drillLink, evidenceRef, isNum } from "./refs.js";

/** A table of the drill-down pages (drill.js uses it too). */
export function table(cols, rows, testid = "drill-table") {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-testid": testid },
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows),
    ),
  );
}

const unknown = "Unknown";
const rate = (v) => (isNum(v) ? `${formatNumber(v)}/s` : unknown);
const ratio = (v) => (isNum(v) ? `${(v * 100).toFixed(3)}%` : unknown); // 0.010 % is one in 10,000
const ms = (v) => (isNum(v) ? `${(v * 1000).toFixed(1)} ms` : unknown);
const count = (v) => (isNum(v) ? formatNumber(v) : unknown);

/** An external link (a trace / log store, GitHub): a new tab, never the opener. */
export function external(href, text, testid) {
  return h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "external-link", "data-testid": testid }, text);
}

/** The "traces" / "logs" block of the API: its links, or its plain reason (not configured). */
export function deepLinks(block, testid) {
  if (!block) return null;
  if (block.available === false) return h("span", { class: "muted", "data-testid": `${testid}-missing` }, block.reason);
  return (block.items || []).map((l) => external(l.href, l.label, testid));
}

function rowLinks(links) {
  const out = [];
  for (const [key, label] of [["traces", "Traces"], ["logs", "Logs"]]) {
    const b = links?.[key];
    if (b?.available) out.push(external(b.items[0].href, label, `endpoint-${key}`), " ");
  }
  return out.length ? out : h("span", { class: "muted", title: links?.traces?.reason || "" }, "—");
}

/** Per-endpoint request rate, error ratio and p95/p99 latency (the slo_attainment run's rows). */
export function endpointsBlock(b, ctx, withService = true) {
  const reasons = (b.items || []).map((r) => r.links?.traces).find((t) => t && t.available === false);
  return [
    b.summary ? h("p", { class: "muted", "data-testid": "endpoints-summary" }, b.summary) : null,
    table(
      [...(withService ? ["Service"] : []), "Endpoint", "Requests", "Request rate", "Error ratio", "p95", "p99", "Links", "Evidence"],
      b.items.map((r) =>
        h(
          "tr",
          { "data-testid": "endpoint-row", "data-item-id": r.id, "data-service": r.service, "data-route": r.route },
          withService ? h("td", {}, drillLink(r, ctx, r.service) || r.service) : null,
          h("th", { scope: "row" }, h("code", {}, r.route)),
          h("td", { class: "num", "data-field": "requests" }, count(r.requests)),
          h("td", { class: "num", "data-field": "rate" }, rate(r.request_rate_per_s)),
          h("td", { class: "num", "data-field": "error_ratio" }, ratio(r.error_ratio)),
          h("td", { class: "num", "data-field": "p95" }, ms(r.p95_s)),
          h("td", { class: "num", "data-field": "p99" }, ms(r.p99_s)),
          h("td", {}, rowLinks(r.links)),
          h("td", {}, evidenceRef({ ...r, name: `${r.service} ${r.route}` }, ctx)),
        ),
      ),
      "endpoints-table",
    ),
    reasons ? h("p", { class: "muted", "data-testid": "endpoint-links-missing" }, reasons.reason) : null,
  ];
}

function node(name, drill, ctx) {
  return drill ? drillLink({ drill }, ctx, name) : h("span", { class: "virtual-node", title: "not a catalog service" }, name);
}

/** Service-graph edges: who calls whom, with request rate and error ratio. */
export function edgesBlock(b, ctx) {
  return [
    b.summary ? h("p", { class: "muted", "data-testid": "edges-summary" }, b.summary) : null,
    table(
      ["Caller", "", "Callee", "Type", "Requests", "Request rate", "Failed", "Error ratio", "Evidence"],
      b.items.map((e) =>
        h(
          "tr",
          { "data-testid": "edge-row", "data-item-id": e.id, "data-client": e.client, "data-server": e.server },
          h("td", {}, node(e.client, e.client_drill, ctx)),
          h("td", { "aria-hidden": "true" }, "→"),
          h("th", { scope: "row" }, node(e.server, e.server_drill, ctx)),
          h("td", {}, e.connection_type && e.connection_type !== "unset" ? e.connection_type.replace("_", " ") : "service"),
          h("td", { class: "num", "data-field": "requests" }, count(e.requests)),
          h("td", { class: "num", "data-field": "rate" }, rate(e.request_rate_per_s)),
          h("td", { class: "num", "data-field": "failed" }, count(e.failed)),
          h("td", { class: "num", "data-field": "error_ratio" }, ratio(e.error_ratio)),
          h("td", {}, evidenceRef({ ...e, name: `${e.client} → ${e.server}` }, ctx)),
        ),
      ),
      "edges-table",
    ),
  ];
}

/** A deployment's code diff: the GitHub compare view of each push before it. */
export function diffBlock(b) {
  return h(
    "ul",
    { class: "diff-links" },
    b.items.map((p) =>
      h(
        "li",
        { "data-testid": "diff-link-row" },
        external(p.href, p.before && /^0+$/.test(p.before) ? `Commit ${p.after.slice(0, 12)} (new branch)` : `Compare ${p.before.slice(0, 12)}…${p.after.slice(0, 12)}`, "diff-link"),
        h("span", { class: "muted" }, ` · ${p.branch || "branch unknown"} · ${formatNumber(p.commits)} commit(s) · pushed ${formatDateTime(p.at)}${p.deployed_head ? " · the deployed head" : ""}`),
      ),
    ),
  );
}
