// The monitoring views (docs/pipeline.md "Monitoring views"): Exec/Ops/Dev dashboards, run overview,
// validation summary, lineage sources, SLA violations. Every figure shows the window it counts and
// links the runs behind it; a figure the API returns as null is Unknown with the reason.

import { api } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { formatDateTime, formatNumber } from "../format.js";
import { statePill, statusBadge, statusClass, statusKey, UNKNOWN } from "../status.js";

export const VIEWS = [
  { id: "dashboards", label: "Dashboards" },
  { id: "runs", label: "Run history" },
  { id: "validation", label: "Validation" },
  { id: "lineage", label: "Lineage sources" },
  { id: "sla", label: "SLA violations" },
];

const INLINE_RUN_LINKS = 5;
const MAX_ROWS = 300;

// ---- shared parts ----------------------------------------------------------------------------

export function runHref(ctx, runId) {
  return ctx.hash({ view: "run", runId });
}

export function runLink(ctx, runId, text) {
  return h("a", { href: runHref(ctx, runId), class: "mono", "data-testid": "run-link", "data-run-id": runId }, text || runId);
}

/** The runs behind a figure: a few inline, more behind a disclosure. */
export function runLinks(ctx, ids, what = "runs") {
  if (!ids?.length) return null;
  const links = ids.map((id) => runLink(ctx, id));
  if (ids.length <= INLINE_RUN_LINKS) return h("span", { class: "run-links", "data-testid": "run-links" }, links);
  return h("details", { class: "run-links", "data-testid": "run-links" }, h("summary", {}, `${ids.length} ${what}`), links);
}

/** A band of the verdict model with its icon and word (status.js's badge). */
export function band(status, testid = "run-band") {
  return statusBadge(status, "", null, testid);
}

/** A run's status word, coloured as its state (status.js). */
export function pill(status) {
  return statePill(status || "unknown", { testid: "run-status" });
}

export function table(caption, headers, rows, testid) {
  return h("div", { class: "table-wrap" }, h("table", { "data-testid": testid },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows)));
}

export function duration(seconds) {
  return typeof seconds === "number" ? `${formatNumber(seconds)} s` : "—";
}

function empty(text, testid = "empty") {
  return h("p", { class: "muted", "data-testid": testid }, text);
}

function windowText(meta) {
  const w = meta.window || {};
  return `runs started ${formatDateTime(w.start)} – ${formatDateTime(w.end)} (last ${w.days === 1 ? "24 hours" : `${w.days} days`})`;
}

/** Where the view's numbers come from: tenant, window, KPI filter, how many attempts, truncation. */
function windowNote(meta, extra = "") {
  return h("p", { class: "mon-window", "data-testid": "window", "data-start": meta.window?.start, "data-end": meta.window?.end,
    "data-count": meta.count },
    `Tenant ${meta.tenant_id} · ${windowText(meta)}${meta.kpi_id ? ` · KPI ${meta.kpi_id}` : ""} · ${meta.count} attempts in the run log`,
    extra ? ` · ${extra}` : "",
    meta.truncated ? h("strong", {}, " · truncated at 5,000 attempts: narrow the window or pick a KPI") : "");
}

/**
 * One figure: `value` as the API gave it (kept in data-value for tests and tools), shown formatted
 * with its unit, or "Unknown" with `unknown` (the reason) when null; `source` says what it counts.
 */
function figure(testid, label, value, { unit = "", unknown, source, runs } = {}) {
  const known = typeof value === "number" && Number.isFinite(value);
  return h("div", { class: "figure", "data-testid": testid, "data-value": known ? String(value) : "" },
    h("div", { class: "muted" }, label),
    h("div", { class: `figure-value${known ? "" : ` ${statusClass(UNKNOWN)}`}`, "data-testid": "figure-value" },
      known ? `${formatNumber(value)}${unit}` : `Unknown — ${unknown}`),
    source ? h("p", { class: "figure-source", "data-testid": "figure-source" }, source) : null,
    runs || null);
}

function head(ctx, title, meta, extra) {
  return [h("h1", { class: "dash-head" }, title), windowNote(meta, extra)];
}

function params(ctx, extra = {}) {
  const p = { tenant: ctx.tenant, days: String(ctx.days), ...extra };
  if (ctx.kpi) p.kpi = ctx.kpi;
  return p;
}

export async function renderView(ctx) {
  const render = { dashboards, runs, validation, lineage, sla }[ctx.view];
  ctx.say(`Loading ${VIEWS.find((v) => v.id === ctx.view).label.toLowerCase()}…`, { busy: true });
  await render(ctx);
  ctx.say("");
}

// ---- dashboards -------------------------------------------------------------------------------

async function dashboards(ctx) {
  const [ex, ops, dev] = await Promise.all(
    ["exec", "ops", "dev"].map((a) => api.monitoring(`dashboards/${a}`, params(ctx), ctx.signal)),
  );
  ctx.offerKpis(ex.kpi_runs.map((k) => k.kpi_id));
  const none = ex.count === 0;
  const noRuns = `no KPI runs in this window${ctx.kpi ? ` for ${ctx.kpi}` : ""}`;
  replaceChildren(
    ctx.main,
    head(ctx, "KPI run monitoring", ex),
    none ? h("p", { class: "notice", "data-testid": "no-runs" },
      `No KPI run started in this window, so every figure below is Unknown — not healthy.`) : null,
    h("div", { class: "mon-grid" },
      execSection(ctx, ex, noRuns), opsSection(ctx, ops, noRuns), devSection(ctx, dev, none)),
  );
}

/** Run health: how many KPIs' newest attempt has each band — counted, never averaged into a score. */
function runHealth(ctx, ex, noRuns) {
  const rh = ex.run_health;
  if (!rh.kpis) return figure("figure-run-health", "Run health", null, { unknown: noRuns });
  const items = Object.entries(rh.counts).filter(([, n]) => n > 0).map(([s, n]) =>
    h("li", { "data-testid": "run-health-count", "data-status": s, "data-count": String(n) },
      band(s), ` ${n} KPI${n === 1 ? "" : "s"} `, runLinks(ctx, rh.run_ids[s], "newest attempts")));
  return h("div", { class: "figure", "data-testid": "figure-run-health", "data-kpis": String(rh.kpis) },
    h("div", { class: "muted" }, "Run health"),
    h("ul", { class: "legend mon-run-health", "aria-label": "KPIs by the band of their newest attempt" }, items),
    h("p", { class: "figure-source", "data-testid": "figure-source" },
      `${rh.kpis} KPIs, each counted once by ${rh.basis}: delivered Healthy, partial Attention, skipped or blocked Warning, failed Critical, delivered without a verdict Unknown. The one health number is the company health on the dashboards.`));
}

function execSection(ctx, ex, noRuns) {
  const within = ex.count - ex.sla_breaches;
  const kpiRows = ex.kpi_runs.map((k) => h("tr", { "data-testid": "kpi-run-row", "data-kpi-id": k.kpi_id, "data-status": statusKey(k.status) },
    h("td", { class: "mono" }, k.kpi_id),
    h("td", {}, band(k.status), " ", runLink(ctx, k.newest_run_id, k.newest_status),
      h("div", { class: "figure-source" }, "newest delivery: ",
        k.verdict_run_id ? runLink(ctx, k.verdict_run_id, k.verdict ? `verdict ${k.verdict}` : "no verdict") : "never delivered")),
    h("td", { class: "num", title: "attempts delivered of attempts in the window" }, `${k.delivered} of ${k.runs}`)));
  const failing = ex.top_failing_kpis.map((k) => h("tr", { "data-testid": "failing-row", "data-kpi-id": k.kpi_id },
    h("td", { class: "mono" }, k.kpi_id), h("td", { class: "num" }, k.failures), h("td", { class: "num" }, k.runs),
    h("td", {}, runLinks(ctx, k.run_ids))));
  return h("section", { class: "card mon-section", "data-testid": "dash-exec", "aria-labelledby": "exec-title" },
    h("h2", { id: "exec-title" }, "Executive"),
    figure("figure-sla-compliance", "SLA compliance", ex.sla_compliance_pct, {
      unit: " %", unknown: noRuns,
      source: ex.count ? `${within} of ${ex.count} runs finished within their contract's SLA; ${ex.sla_breaches} breached` : null,
      runs: runLinks(ctx, ex.sla_breach_run_ids, "breaching runs"),
    }),
    runHealth(ctx, ex, noRuns),
    ex.kpi_runs.length ? table("KPI runs", ["KPI", "Newest attempt", "Delivered"], kpiRows, "kpi-runs-table") : null,
    h("h3", {}, "Top failing KPIs"),
    failing.length ? table("Top failing KPIs", ["KPI", "Failed or skipped", "Runs", "Runs behind it"], failing, "failing-table")
      : empty(ex.count ? "No run failed or was skipped in this window." : `Unknown — ${noRuns}.`, "failing-empty"),
  );
}

function opsSection(ctx, ops, noRuns) {
  const r = ops.retries;
  const byType = ops.validation_failures_by_rule_type.map((f) => h("tr", { "data-testid": "rule-type-row" },
    h("td", {}, f.phase), h("td", {}, f.rule_type), h("td", {}, f.severity), h("td", { class: "num" }, f.count),
    h("td", {}, runLinks(ctx, f.run_ids))));
  const skippedBy = Object.entries(ops.skipped_by_kpi).map(([k, n]) => `${k} ${n}`).join(", ");
  const statuses = Object.entries(ops.status_counts).map(([s, n]) => h("li", { "data-status": s }, pill(s), ` ${n}`));
  return h("section", { class: "card mon-section", "data-testid": "dash-ops", "aria-labelledby": "ops-title" },
    h("h2", { id: "ops-title" }, "Operations"),
    figure("figure-retry-success", "Retry success rate", r.success_rate_pct, {
      unit: " %", unknown: ops.count ? "no attempt was retried in this window" : noRuns,
      source: r.retried_attempts ? `${r.succeeded} of ${r.retried_attempts} retried attempts delivered; ${r.failed} failed` : null,
      runs: runLinks(ctx, r.run_ids, "retried attempts"),
    }),
    figure("figure-runs-skipped", "Runs skipped by pre-validation", ops.count ? ops.runs_skipped : null, {
      unknown: noRuns,
      source: ops.count ? `${ops.runs_skipped} of ${ops.count} runs${skippedBy ? ` (${skippedBy})` : ""}` : null,
      runs: runLinks(ctx, ops.skipped_run_ids, "skipped runs"),
    }),
    statuses.length ? h("ul", { class: "legend", "data-testid": "status-counts", "aria-label": "Runs by status" }, statuses) : null,
    h("h3", {}, "Validation failures by rule type"),
    byType.length ? table("Validation failures by rule type", ["Phase", "Rule type", "Severity", "Failures", "Runs"], byType, "rule-type-table")
      : empty(ops.count ? "No validation rule failed in this window." : `Unknown — ${noRuns}.`, "rule-type-empty"),
  );
}

function devSection(ctx, dev, none) {
  const codes = dev.error_codes.map((c) => h("tr", { "data-testid": "error-code-row", "data-code": c.error_code },
    h("td", { class: "mono" }, c.error_code), h("td", { class: "num" }, c.count), h("td", {}, runLinks(ctx, c.run_ids))));
  const changes = dev.sql_hash_changes.map((c) => h("tr", { "data-testid": "sql-hash-row" },
    h("td", { class: "mono" }, c.kpi_id), h("td", { class: "mono" }, c.source_object),
    h("td", { class: "mono" }, `${String(c.from).slice(0, 12)} → ${String(c.to).slice(0, 12)}`),
    h("td", {}, formatDateTime(c.at)), h("td", {}, runLink(ctx, c.run_id))));
  const anomalies = dev.duration_anomalies.map((a) => h("tr", { "data-testid": "anomaly-row" },
    h("td", { class: "mono" }, a.kpi_id), h("td", {}, runLink(ctx, a.run_id)), h("td", { class: "num" }, duration(a.duration_s)),
    h("td", { class: "num" }, duration(a.baseline_s)), h("td", { class: "num" }, a.factor === null ? "—" : `${formatNumber(a.factor)}×`),
    h("td", {}, formatDateTime(a.started_at))));
  const unknown = "Unknown — no KPI runs in this window.";
  return h("section", { class: "card mon-section", "data-testid": "dash-dev", "aria-labelledby": "dev-title" },
    h("h2", { id: "dev-title" }, "Developers"),
    h("h3", {}, "Error codes"),
    codes.length ? table("Error code distribution", ["Error code", "Runs", "Which"], codes, "error-code-table")
      : empty(none ? unknown : "No run ended with an error code in this window.", "error-code-empty"),
    h("h3", {}, "Generated-SQL hash changes"),
    changes.length ? table("SQL hash changes", ["KPI", "Source", "Hash", "At", "First run with it"], changes, "sql-hash-table")
      : empty(none ? unknown : "No source's generated-SQL hash changed between runs of a KPI in this window.", "sql-hash-empty"),
    h("h3", {}, "Duration anomalies"),
    h("p", { class: "figure-source" }, "A run slower than 3× the median of its KPI's ≥ 5 earlier runs in the window, and ≥ 1 s slower."),
    anomalies.length ? table("Duration anomalies", ["KPI", "Run", "Duration", "Baseline", "Factor", "Started"], anomalies, "anomaly-table")
      : empty(none ? unknown : "No run was anomalously slow against its KPI's baseline in this window.", "anomaly-empty"),
  );
}

// ---- run overview -----------------------------------------------------------------------------

async function runs(ctx) {
  const data = await api.monitoring("runs", params(ctx, ctx.status ? { status: ctx.status } : {}), ctx.signal);
  ctx.offerKpis(data.runs.map((r) => r.kpi_id));
  const rows = data.runs.map((r) => h("tr", { "data-testid": "run-row", "data-run-id": r.run_id, "data-status": r.status },
    h("td", {}, pill(r.status)), h("td", { class: "mono" }, r.kpi_id), h("td", {}, formatDateTime(r.started_at)),
    h("td", { "data-testid": "run-as-of" }, r.as_of ? formatDateTime(r.as_of) : "—"),
    h("td", { class: "num" }, duration(r.duration_s)), h("td", { class: "num" }, r.retry_seq ?? 0),
    h("td", {}, r.sla_breached ? h("span", { class: "breach" }, "breached") : "within"),
    h("td", {}, r.verdict || "—"), h("td", { class: "mono" }, r.error_code || ""),
    h("td", {}, runLink(ctx, r.run_id, "Run log"), lineageNote(ctx, r.lineage_ref))));
  const shown = data.runs.length < data.count ? `showing the newest ${data.runs.length} of ${data.count}` : "";
  replaceChildren(ctx.main,
    head(ctx, "Run history", data, [ctx.status ? `status ${ctx.status}` : "", shown].filter(Boolean).join(" · ")),
    rows.length ? table("KPI runs, newest first", ["Status", "KPI", "Started", "As of", "Duration", "Retry", "SLA", "Verdict", "Error", "Run"], rows, "runs-table")
      : h("p", { class: "notice", "data-testid": "no-runs" }, `No KPI run${ctx.status ? ` with status ${ctx.status}` : ""} started in this window: the run history is unknown here, not clean.`));
}

/** Retries and corrections name the run they follow (lineage_ref `retry-of:` / `correction-of:`). */
export function lineageNote(ctx, ref) {
  const m = /^(retry|correction)-of:(.+)$/.exec(ref || "");
  if (!m) return null;
  return h("div", { class: "figure-source" }, m[1] === "retry" ? "retry of " : "correction of ", runLink(ctx, m[2]));
}

// ---- validation summary -----------------------------------------------------------------------

async function validation(ctx, showAll = false) {
  const data = await api.monitoring("validation", params(ctx), ctx.signal);
  ctx.offerKpis(data.runs.map((r) => r.kpi_id));
  const failing = data.runs.filter((r) => r.pre_fail_count || r.post_fail_count);
  const list = (showAll ? data.runs : failing).slice(0, MAX_ROWS);
  const rows = list.map((r) => h("tr", { "data-testid": "validation-row", "data-run-id": r.run_id },
    h("td", {}, runLink(ctx, r.run_id)), h("td", { class: "mono" }, r.kpi_id), h("td", {}, pill(r.status)),
    h("td", { class: "num" }, r.pre_fail_count), h("td", { class: "num" }, r.post_fail_count),
    h("td", {}, r.failed_rules.map((f) => `${f.phase}:${f.rule_id} (${f.rule_type}, ${f.severity})`).join("; ") || "—")));
  const pre = data.runs.filter((r) => r.pre_fail_count).length;
  const post = data.runs.filter((r) => r.post_fail_count).length;
  const toggle = h("label", {}, h("input", { type: "checkbox", "data-testid": "show-all-validation", checked: showAll || null,
    onchange: (e) => validation(ctx, e.target.checked).catch(ctx.onError) }), " Show runs without failures too");
  replaceChildren(ctx.main,
    head(ctx, "Validation summary", data),
    data.count ? figure("figure-validation", "Runs with a failed validation rule", failing.length, {
      source: `${failing.length} of ${data.count} runs: ${pre} failed pre-validation, ${post} failed post-validation`,
    }) : null,
    data.count ? toggle : null,
    rows.length ? table("Validation outcomes per run", ["Run", "KPI", "Status", "Pre fails", "Post fails", "Failed rules"], rows, "validation-table")
      : h("p", { class: "notice", "data-testid": "no-runs" }, data.count ? "No run failed a validation rule in this window." : "No KPI run started in this window: validation outcomes are unknown."),
    list.length < (showAll ? data.runs : failing).length ? empty(`Showing the first ${MAX_ROWS}; pick a KPI to see the rest.`, "rows-capped") : null);
}

// ---- lineage sources --------------------------------------------------------------------------

async function lineage(ctx) {
  const data = await api.monitoring("lineage", params(ctx), ctx.signal);
  ctx.offerKpis(data.sources.map((s) => s.kpi_id));
  const rows = data.sources.slice(0, MAX_ROWS).map((s) => h("tr", { "data-testid": "lineage-row", "data-run-id": s.run_id },
    h("td", {}, runLink(ctx, s.run_id)), h("td", { class: "mono" }, s.kpi_id), h("td", {}, s.contract_version || "—"),
    h("td", {}, s.source_type), h("td", { class: "mono" }, s.source_object), h("td", {}, s.source_version || "—"),
    h("td", { class: "mono" }, s.sql_hash ? String(s.sql_hash).slice(0, 16) : "—")));
  replaceChildren(ctx.main,
    head(ctx, "Lineage sources", data, `${data.sources.length} (run, source) rows`),
    rows.length ? table("Sources each run read", ["Run", "KPI", "Contract", "Source type", "Source", "Source version", "SQL hash"], rows, "lineage-table")
      : h("p", { class: "notice", "data-testid": "no-runs" }, data.count ? "The runs of this window recorded no sources." : "No KPI run started in this window: its lineage is unknown."),
    data.sources.length > MAX_ROWS ? empty(`Showing the first ${MAX_ROWS} of ${data.sources.length}; pick a KPI to see the rest.`, "rows-capped") : null);
}

// ---- SLA violations ---------------------------------------------------------------------------

async function sla(ctx) {
  const data = await api.monitoring("sla-violations", params(ctx), ctx.signal);
  ctx.offerKpis(data.violations.map((v) => v.kpi_id));
  const rows = data.violations.map((v) => h("tr", { "data-testid": "sla-row", "data-run-id": v.run_id },
    h("td", {}, runLink(ctx, v.run_id)), h("td", { class: "mono" }, v.kpi_id), h("td", {}, formatDateTime(v.started_at)),
    h("td", { class: "num" }, duration(v.duration_s)), h("td", {}, pill(v.status)), h("td", {}, v.sla_reason || "—"),
    h("td", { class: "mono" }, v.error_code || "")));
  replaceChildren(ctx.main,
    head(ctx, "SLA violations", data, `${data.violations.length} of ${data.count} runs breached their SLA`),
    rows.length ? table("Runs that breached their SLA", ["Run", "KPI", "Started", "Duration", "Status", "Why", "Error"], rows, "sla-table")
      : h("p", { class: "notice", "data-testid": "no-violations" }, data.count ? `None of the ${data.count} runs in this window breached its SLA.` : "No KPI run started in this window: SLA compliance is unknown."));
}
