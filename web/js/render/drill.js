// Drill-down pages (#/{tenant}/{persona}/drill/{kind}/{id}): score breakdown tree, KPI → services →
// endpoints, service, incident list and timeline, change correlation → deployment → commits, and
// the service map (endpoint / edge tables and deep links: drill_traffic.js). A level without data
// (`available: false`) shows its reason.

import { api } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { formatDate, formatDateTime, formatNumber } from "../format.js";
import { statePill, statusBadge, statusClass, statusKey } from "../status.js";
import { kpiTile } from "./kpi.js";
import { deepLinks, diffBlock, edgesBlock, endpointsBlock, external, table } from "./drill_traffic.js";
import { drillLink, evidenceRef, isNum } from "./refs.js";

const seg = encodeURIComponent;

const DRILLS = {
  score: { title: "Score breakdown", path: () => "/scores/breakdown", render: renderBreakdown },
  kpi: { title: "KPI deep dive", path: (id) => `/drill/kpi/${seg(id)}`, render: renderKpi },
  service: { title: "Service", path: (id) => `/drill/service/${seg(id)}`, render: renderService },
  incidents: { title: "Incident history", path: () => "/drill/incidents", render: renderIncidents },
  incident: { title: "Incident", path: (id) => `/drill/incidents/${seg(id)}`, render: renderIncident },
  changes: { title: "Change correlation", path: () => "/drill/changes", render: renderChanges },
  deployment: {
    title: "Deployment",
    path: (id) => `/drill/deployments/${seg(id)}`,
    render: renderDeployment,
  },
  services: { title: "Service map", path: () => "/drill/services", render: renderServiceMap },
  control: {
    title: "Control",
    // id: "<framework>::<control id>" (the panel's chip)
    path: (id) => `/drill/compliance/${String(id).split("::").map(seg).join("/")}`,
    render: renderControl,
  },
};

export function drillTitle(drill) {
  const d = DRILLS[drill?.kind];
  if (!d) return "Drill-down";
  return drill.id && !["score", "kpi"].includes(drill.kind) ? `${d.title} ${drill.id}` : d.title;
}

export async function renderDrill(container, ctx) {
  const spec = DRILLS[ctx.drill.kind];
  const head = h(
    "div",
    { class: "dash-head" },
    h(
      "p",
      {},
      h("a", { href: ctx.backHref, class: "back-link", "data-testid": "drill-back" }, "← Back to the dashboard"),
    ),
    h("h1", { id: "drill-title", "data-testid": "drill-title" }, drillTitle(ctx.drill)),
  );
  if (!spec) {
    replaceChildren(container, head, notice(`Unknown drill-down “${ctx.drill.kind}”.`));
    return;
  }
  const params = { tenant: ctx.tenant, period: ctx.period };
  if (ctx.drill.kind === "incident") delete params.period;
  const data = await api.drill(spec.path(ctx.drill.id), params, ctx.signal);
  if (ctx.signal.aborted) return;
  replaceChildren(
    container,
    head,
    h(
      "div",
      { class: "drill", "data-testid": "drill", "data-drill-kind": ctx.drill.kind },
      spec.render(data, ctx),
    ),
  );
}

// ---- building blocks ------------------------------------------------------------------------------

function notice(text) {
  return h("p", { class: "notice notice-not-built", "data-testid": "drill-unavailable" }, text);
}

function section(title, testid, ...content) {
  return h("section", { class: "panel panel-full", "data-testid": testid }, h("h2", { class: "panel-title" }, title), content);
}

/** A block of the API that may be `available: false` — its reason instead of its rows. */
function level(title, testid, block, render) {
  if (!block) return null;
  return section(title, testid, block.available === false ? notice(block.reason) : render(block));
}

const num = (v, suffix = "") => (isNum(v) ? `${formatNumber(v)}${suffix}` : "Unknown");
const when = (iso, kind = "datetime") =>
  iso ? h("time", { datetime: iso }, kind === "date" ? formatDate(iso) : formatDateTime(iso)) : "—";
const code = (v) => (v ? h("code", {}, String(v).slice(0, 12)) : "—");

function minutes(seconds) {
  return isNum(seconds) ? `${formatNumber(seconds / 60)} min` : "—";
}

/** A deployment's outcome: a fact of the run, not a status (no status word; its state's colour). */
function outcome(ok) {
  const [kind, text] = ok === true ? ["success", "Succeeded"] : ok === false ? ["failed", "Failed"] : ["none", "Not reported"];
  return statePill(kind, { text, testid: "deploy-outcome" });
}

/** An incident's band (the API's) and its state as a word beside it. */
function incidentStatus(i) {
  const state = i.status ? `${i.status[0].toUpperCase()}${i.status.slice(1)}` : null;
  return [statusBadge(i.band), state ? h("span", { class: "incident-state" }, ` ${state}`) : null];
}

// ---- score breakdown ------------------------------------------------------------------------------

function scoreText(score) {
  return isNum(score) ? formatNumber(Math.round(score * 10) / 10) : "Unknown";
}

function renderBreakdown(data, ctx) {
  if (!data.available) return notice(data.reason);
  const c = data.breakdown.composite;
  const focus = ctx.drill.id && ctx.drill.id !== "composite" ? ctx.drill.id : null;
  return [
    h(
      "p",
      { class: "muted", "data-testid": "breakdown-header" },
      [
        data.model_version ? `Health model ${data.model_version}` : null,
        `computed ${formatDateTime(data.computed_at)}`,
        isNum(c.known_weight) ? `measured on ${formatNumber(Math.round(c.known_weight * 100))} % of its weight` : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
    c.partial ? h("p", { class: "item-partial", "data-testid": "breakdown-partial" }, c.partial) : null,
    h(
      "div",
      { class: "tree", "data-testid": "breakdown-tree" },
      h(
        "p",
        { class: "tree-root", "data-testid": "breakdown-composite" },
        h("strong", {}, "Composite "),
        h("span", { "data-testid": "item-value" }, scoreText(c.score)),
        " ",
        statusBadge(statusKey(c.band)),
        c.reason ? h("span", { class: "muted" }, ` ${c.reason}`) : null,
      ),
      h(
        "ul",
        {},
        c.dimensions.map((d) =>
          h(
            "li",
            {},
            h(
              "details",
              { open: !focus || focus === d.dimension ? "" : null, "data-testid": "breakdown-dimension", "data-id": d.dimension },
              h(
                "summary",
                {},
                h("strong", {}, d.name),
                ` ${scoreText(d.score)} `,
                statusBadge(statusKey(d.band)),
                h(
                  "span",
                  { class: "muted" },
                  ` weight ${formatNumber(d.weight)} · ${d.method.replaceAll("_", " ")}`,
                  isNum(d.known_weight) ? ` · measured on ${formatNumber(Math.round(d.known_weight * 100))} %` : "",
                ),
              ),
              d.partial ? h("p", { class: "item-partial" }, d.partial) : null,
              d.reason ? h("p", { class: "muted" }, d.reason) : null,
              h("ul", {}, d.inputs.map((i) => inputNode(i, data, ctx))),
            ),
          ),
        ),
      ),
    ),
  ];
}

function inputNode(input, data, ctx) {
  return h(
    "li",
    { "data-testid": "breakdown-input", "data-id": input.id },
    h(
      "p",
      {},
      h("span", { class: "tree-label" }, input.name || input.id.replaceAll("_", " ")),
      ` ${scoreText(input.score)}`,
      h(
        "span",
        { class: "muted" },
        ` · weight ${formatNumber(input.weight)} (effective ${formatNumber(input.effective_weight)}) · adds ${formatNumber(Math.round(input.contribution * 10) / 10)} points`,
      ),
      input.reason ? h("span", { class: "muted" }, ` · ${input.reason}`) : null,
    ),
    input.kpis?.length
      ? h(
          "ul",
          {},
          input.kpis.map((k) => {
            const ev = data.evidence?.[k.kpi_id];
            const item = { name: k.name, kpi_id: k.kpi_id, evidence: ev?.run_id ? ev : null, drill: { kind: "kpi", id: k.kpi_id } };
            return h(
              "li",
              { "data-testid": "breakdown-kpi", "data-kpi-id": k.kpi_id, "data-status": statusKey(k.band) },
              drillLink(item, ctx, k.name),
              ` ${k.value === null ? "Unknown" : k.display} → score ${scoreText(k.score)} `,
              statusBadge(statusKey(k.band)),
              k.unknown_reason ? h("span", { class: "muted" }, ` ${k.unknown_reason}`) : null,
              " ",
              evidenceRef(item, ctx),
            );
          }),
        )
      : null,
    input.children?.length ? h("ul", {}, input.children.map((ch) => inputNode(ch, data, ctx))) : null,
  );
}

// ---- KPI → service → endpoint -----------------------------------------------------------------------

function renderKpi(data, ctx) {
  return [
    h("div", { class: "kpi-grid drill-kpi" }, kpiTile(data.kpi, ctx.onEvidence, { ...ctx, drillHref: null })),
    level("Services behind this KPI", "drill-services", data.services, (b) => [
      b.note ? h("p", { class: "muted" }, b.note) : null,
      b.kind === "findings" ? findingsByService(b, ctx) : table(
        ["Service", "Domain", "Signals", "Latest", "Production deploys", "Failed", "Change failure"],
        b.items.map((r) =>
          h(
            "tr",
            { "data-testid": "drill-row" },
            h("th", { scope: "row" }, drillLink(r, ctx, r.id) || r.id),
            h("td", {}, r.domain || "—"),
            h("td", { class: "num" }, num(r.signals)),
            h("td", {}, when(r.latest_at)),
            h("td", { class: "num" }, isNum(r.deploys) ? num(r.deploys) : "—"),
            h("td", { class: "num" }, isNum(r.failed) ? num(r.failed) : "—"),
            h("td", { class: "num" }, isNum(r.change_failure_pct) ? num(r.change_failure_pct, "%") : "—"),
          ),
        ),
      ),
    ]),
    data.breakdown && data.breakdown.panels?.coverage
      ? section("Coverage per service (delivered with the run)", "drill-breakdown", coverageTable(data.breakdown.panels.coverage, ctx))
      : null,
    level("Endpoint metrics", "drill-endpoints", data.endpoints, (b) => endpointsBlock(b, ctx)),
  ];
}

// A findings KPI's per-service level: open / critical / fixed scanner findings per service.
function findingsByService(b, ctx) {
  return table(
    ["Service", "Open", "Open critical", "Fixed", "Oldest open since"],
    b.items.map((r) =>
      h(
        "tr",
        { "data-testid": "drill-row" },
        h("th", { scope: "row" }, drillLink(r, ctx, r.id) || r.id),
        h("td", { class: "num" }, num(r.open)),
        h("td", { class: "num" }, num(r.open_critical)),
        h("td", { class: "num" }, num(r.fixed)),
        h("td", {}, r.oldest_open ? when(r.oldest_open) : "—"),
      ),
    ),
  );
}

/** test_coverage's rows: per service the newest reports' lines, coverage, time, format, commit. */
function coverageTable(b, ctx) {
  return [
    b.summary ? h("p", { class: "muted" }, b.summary) : null,
    table(
      ["Service", "Lines covered", "Lines valid", "Coverage", "Previous period", "Report", "Format", "Commit"],
      b.items.map((r) =>
        h(
          "tr",
          { "data-testid": "drill-row", "data-service": r.id },
          h("th", { scope: "row" }, r.service ? drillLink({ drill: { kind: "service", id: r.id } }, ctx, r.id) || r.id : `${r.id} (unmapped)`),
          h("td", { class: "num" }, num(r.lines_covered)),
          h("td", { class: "num" }, num(r.lines_valid)),
          h("td", { class: "num" }, num(r.coverage_pct, "%")),
          h("td", { class: "num" }, isNum(r.previous_pct) ? num(r.previous_pct, "%") : "—"),
          h("td", {}, when(r.report_at)),
          h("td", {}, r.format || "—"),
          h("td", {}, code(r.commit)),
        ),
      ),
    ),
    b.evidence ? h("p", { class: "kpi-evidence" }, evidenceRef({ ...b, name: "coverage rows" }, ctx)) : null,
  ];
}

function deploymentsTable(items, ctx, withIncidents = false) {
  return table(
    ["Deployment", "When", "Service", "Repository", "Commit", "Result", ...(withIncidents ? ["Incidents within 24 h"] : [])],
    items.map((d) =>
      h(
        "tr",
        { "data-testid": "drill-row", "data-item-id": d.id },
        h("th", { scope: "row" }, drillLink({ drill: { kind: "deployment", id: d.id } }, ctx, d.id)),
        h("td", {}, when(d.at)),
        h("td", {}, d.service || "unmapped"),
        h("td", {}, d.repository || "—"),
        h("td", {}, code(d.sha)),
        h("td", {}, outcome(d.succeeded)),
        withIncidents ? h("td", {}, (d.incidents_within_24h || []).join(", ") || "none") : null,
      ),
    ),
  );
}

function incidentsTable(items, ctx) {
  return table(
    ["Incident", "Title", "Priority", "Service", "Triggered", "Status", "Time to resolve", "Post-mortem"],
    items.map((i) =>
      h(
        "tr",
        { "data-testid": "drill-row", "data-item-id": i.id },
        h("th", { scope: "row" }, drillLink({ drill: { kind: "incident", id: i.id } }, ctx, i.number ? `#${i.number}` : i.id)),
        h("td", {}, i.title || "—"),
        h("td", {}, i.priority || i.urgency || "—"),
        h("td", {}, i.service || i.service_name || "unmapped"),
        h("td", {}, when(i.triggered_at)),
        h("td", {}, incidentStatus(i)),
        h("td", {}, minutes(i.duration_s)),
        h("td", {}, postmortemLink(i.postmortem, "—")),
      ),
    ),
  );
}

/** "Post-mortem links": the issue that reviews the incident, completed (closed) or in progress. */
function postmortemLink(pm, none) {
  if (!pm) return none;
  const label = pm.completed ? "Post-mortem completed" : "Post-mortem in progress";
  return pm.url ? external(pm.url, label, "postmortem-link") : label;
}

function renderService(data, ctx) {
  const s = data.service;
  const card = data.card;
  return [
    card
      ? h(
          "p",
          { class: `service-card ${statusClass(card.status)}`, "data-testid": "drill-service-status", "data-status": statusKey(card.status) },
          statusBadge(card.status, "status-badge-lg"),
          ` ${card.operational === true ? "Operational" : card.operational === false ? "Not operational" : "Operational: not known"} · ${card.detail || ""}`,
        )
      : null,
    h("p", { class: "muted" }, `Domain ${s.domain || "—"} · sources ${(s.entities || []).map((e) => `${e.source}:${e.entity}`).join(", ")}`),
    level("Deployments", "drill-deployments", data.deployments, (b) => [
      h("p", {}, `${num(b.total)} production deploys, ${num(b.failed)} failed (change failure ${num(b.change_failure_pct, "%")})`),
      deploymentsTable(b.items, ctx),
    ]),
    level("Incidents", "drill-incidents", data.incidents, (b) => incidentsTable(b.items, ctx)),
    level("SLO", "drill-slo", data.slo, (b) => sloBlock(b, ctx)),
    level("Endpoint metrics", "drill-endpoints", data.endpoints, (b) => endpointsBlock(b, ctx, false)),
  ];
}

const pct = (v, digits = 3) => (isNum(v) ? `${v.toFixed(digits)}%` : "Unknown");
const burn = (v) => (isNum(v) ? `${v.toFixed(2)}x` : "Unknown");

/** A service's SLO: attainment over the period, per day, burn per alert window, firing alerts. */
function sloBlock(b, ctx) {
  return [
    h(
      "p",
      { "data-testid": "drill-slo-summary", "data-status": statusKey(b.status) },
      statusBadge(b.status, "", `${pct(b.attainment)} of ${num(b.total)} requests good`),
      ` · objective ${pct(100 * b.objective, 2)} · budget left ${pct(100 * b.budget_left, 1)} · burn ${burn(b.burn_rate)} over ${num(b.window_days)} days `,
      evidenceRef({ name: "SLO", evidence: b.evidence }, ctx),
    ),
    table(
      ["Window", "Requests", "Good", "Burn rate", "Status", "From", "To"],
      b.burn_windows.map((w) =>
        h(
          "tr",
          { "data-testid": "drill-row", "data-item-id": w.window, "data-status": statusKey(w.status) },
          h("th", { scope: "row" }, w.window),
          h("td", { class: "num" }, isNum(w.total) ? num(w.total) : "—"),
          h("td", { class: "num" }, isNum(w.good) ? num(w.good) : "—"),
          h("td", { class: "num" }, isNum(w.burn_rate) ? burn(w.burn_rate) : w.reason || "Unknown"),
          h("td", {}, statusBadge(w.status)),
          h("td", {}, when(w.from)),
          h("td", {}, when(w.to)),
        ),
      ),
      "drill-slo-windows",
    ),
    h(
      "p",
      { "data-testid": "drill-slo-alerts" },
      b.alerts.length
        ? `Firing burn-rate alerts: ${b.alerts.map((a) => `${a.severity} (${a.rule.long_window}/${a.rule.short_window} above ${a.rule.burn_rate}x: ${burn(a.long_burn_rate)} / ${burn(a.short_burn_rate)})`).join("; ")}`
        : "No multiwindow burn-rate alert fires.",
      b.alerts_not_evaluated.length ? h("span", { class: "muted" }, ` Not evaluated (their windows are not pulled): ${b.alerts_not_evaluated.join(", ")}.`) : null,
    ),
    table(
      ["Day", "Requests", "Attainment", "Burn rate", "Status"],
      b.days.map((d) =>
        h(
          "tr",
          { "data-testid": "drill-row", "data-item-id": d.day, "data-status": statusKey(d.status) },
          h("th", { scope: "row" }, when(d.day, "date")),
          h("td", { class: "num" }, num(d.total)),
          h("td", { class: "num" }, pct(d.attainment)),
          h("td", { class: "num" }, burn(d.burn_rate)),
          h("td", {}, statusBadge(d.status)),
        ),
      ),
      "drill-slo-days",
    ),
  ];
}

// ---- incidents ----------------------------------------------------------------------------------------

function renderIncidents(data, ctx) {
  return data.available === false ? notice(data.reason) : incidentsTable(data.items, ctx);
}

// PagerDuty's event agents (`agent.type` of a v3 webhook), in words
const AGENTS = {
  user_reference: "a responder",
  service_reference: "the service (automatic)",
  integration_reference: "an integration",
  escalation_policy_reference: "the escalation policy",
};
const SOURCES = { pagerduty: "PagerDuty", github: "GitHub" };

function renderIncident(data, ctx) {
  const i = data.incident;
  return [
    h(
      "p",
      {},
      h("strong", {}, i.title || i.id),
      ` · ${i.priority || i.urgency || "no priority"} · ${i.service || i.service_name || "unmapped service"} · `,
      incidentStatus(i),
      ` · time to resolve ${minutes(i.duration_s)}`,
    ),
    section(
      "Timeline",
      "drill-timeline",
      h(
        "ol",
        { class: "timeline" },
        data.timeline.map((e) =>
          h(
            "li",
            { "data-testid": "timeline-event" },
            when(e.at),
            ` ${e.transition || "event"}`,
            e.priority ? ` · ${e.priority}` : "",
            e.agent ? ` · by ${AGENTS[e.agent] || "PagerDuty"}` : "",
            // the evidence's ids stay on hover (auditors), the line says where it came from
            h(
              "span",
              { class: "muted", title: `signal ${e.evidence.signal_id} · delivery ${e.evidence.delivery_id}` },
              ` · from ${SOURCES[e.evidence.source] || e.evidence.source || "a webhook"}`,
            ),
          ),
        ),
      ),
    ),
    level("Deployments in the 24 h before", "drill-changes", data.changes, (b) =>
      b.items.length ? deploymentsTable(b.items, ctx) : h("p", { class: "muted" }, "No deployment of this service in the 24 hours before."),
    ),
    section(
      "Post-mortem",
      "drill-postmortem",
      h("p", {}, i.postmortem
        ? [postmortemLink(i.postmortem), i.postmortem.title ? ` · ${i.postmortem.title}` : ""]
        : h("span", { class: "muted" }, "No post-mortem names this incident yet (a GitHub issue labelled postmortem with its PagerDuty link)."),
      ),
    ),
    level("Correlated logs", "drill-logs", data.logs, (b) => h("p", {}, deepLinks(b, "log-link"))),
    level("Traces", "drill-traces", data.traces, (b) => h("p", {}, deepLinks(b, "trace-link"))),
  ];
}

// ---- change correlation -------------------------------------------------------------------------------

function renderChanges(data, ctx) {
  if (data.available === false) return notice(data.reason);
  return [
    h("p", {}, `${num(data.total)} production deployments, ${num(data.failed)} failed.`),
    data.incidents_reason ? notice(data.incidents_reason) : null,
    deploymentsTable(data.items, ctx, true),
  ];
}

function renderDeployment(data, ctx) {
  const d = data.deployment;
  return [
    h(
      "dl",
      { class: "facts" },
      [
        ["Repository", d.repository],
        ["Service", d.service || "unmapped"],
        ["Environment", d.environment],
        ["Commit", d.sha],
        ["Ref", d.ref],
        ["When", formatDateTime(d.at)],
        ["Delivery", d.delivery_id],
      ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v || "—")]),
      h("dt", {}, "Result"),
      h("dd", {}, outcome(d.succeeded)),
    ),
    level("Commits since the previous deploy", "drill-commits", data.commits, (b) => [
      table(
        ["Commit", "When", "Author", "Branch", "Deployed head"],
        b.items.map((c) =>
          h(
            "tr",
            { "data-testid": "drill-row" },
            h("th", { scope: "row" }, code(c.sha)),
            h("td", {}, when(c.at)),
            h("td", {}, c.author || "—"),
            h("td", {}, c.branch || "—"),
            h("td", {}, c.deployed_head ? "yes" : ""),
          ),
        ),
      ),
      b.pull_requests?.length
        ? table(
            ["Pull request", "Merged", "Author", "Merge commit"],
            b.pull_requests.map((p) =>
              h("tr", {}, h("th", { scope: "row" }, `#${p.number}`), h("td", {}, when(p.merged_at)), h("td", {}, p.author || "—"), h("td", {}, code(p.merge_commit_sha))),
            ),
          )
        : null,
    ]),
    level("Code diff", "drill-diff", data.diff, (b) => diffBlock(b)),
  ];
}

// ---- dependency explorer --------------------------------------------------------------------------------

function renderServiceMap(data, ctx) {
  if (data.available === false) return notice(data.reason);
  const sum = data.summary;
  return [
    sum
      ? h(
          "p",
          { class: `panel-summary ${statusClass(sum.status)}`, "data-testid": "drill-services-summary", "data-status": statusKey(sum.status) },
          statusBadge(sum.status, "", sum.label),
          sum.detail ? h("span", { class: "muted" }, ` ${sum.detail}`) : null,
        )
      : null,
    h(
      "ul",
      { class: "status-grid" },
      data.items.map((s) =>
        h(
          "li",
          { class: `status-cell ${statusClass(s.status)}`, "data-testid": "drill-row", "data-item-id": s.id, "data-status": statusKey(s.status) },
          h("div", { class: "status-name" }, drillLink(s, ctx, s.name), s.group ? h("span", { class: "muted" }, ` · ${s.group}`) : null),
          statusBadge(statusKey(s.status)),
          h("p", { class: "status-detail" }, s.detail || ""),
        ),
      ),
    ),
    level("Dependencies and traffic flow", "drill-edges", data.edges, (b) => edgesBlock(b, ctx)),
  ];
}

function renderControl(data, ctx) {
  if (data.available === false) return notice(data.reason);
  const key = statusKey(data.band); // the domain's verdict of the control (views/drilldown/compliance.py)
  const checkRows = (data.checks || []).map((c) =>
    h(
      "tr",
      { "data-testid": "control-check", "data-status": c.status },
      h("th", { scope: "row" }, c.title || c.check_id),
      h("td", {}, c.status + (c.muted ? " (muted)" : "")),
      h("td", {}, c.resource || "—"),
      h("td", {}, c.scope || "—"),
      h("td", {}, when(c.checked_at)),
    ),
  );
  const failRows = (data.failing || []).map((c) =>
    h(
      "tr",
      { "data-testid": "control-failing" },
      h("th", { scope: "row" }, c.title || c.check_id),
      h("td", {}, c.severity || "—"),
      h("td", {}, c.resource || "—"),
      h("td", {}, when(c.first_seen)),
      h("td", {}, c.detail || ""),
    ),
  );
  return [
    h(
      "p",
      { class: "drill-summary", "data-testid": "control-status" },
      `${data.framework} ${data.control_id}: `,
      statusBadge(key),
      ` as of ${formatDateTime(data.as_of)} · `,
      evidenceRef(data, ctx),
    ),
    section(
      "Failing checks",
      "control-failing-checks",
      failRows.length ? table(["Check", "Severity", "Resource", "Failing since", "Why"], failRows) : notice("No check of this control fails."),
    ),
    section("Every check mapped to the control", "control-checks", table(["Check", "Result", "Resource", "Scope", "Checked"], checkRows)),
  ];
}
