// One run's log (GET /runs/{run_id}): the header, then every step's rows — sourcing,
// pre-validation, execution, post-validation, delivery — and the corrections linked by lineage.
// Admins (the roles the API lets restate a run) get the correction form on a delivered original.

import { api } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { formatDateTime, formatNumber } from "../format.js";
import { duration, lineageNote, pill, runLink, table } from "./views.js";

const CORRECTORS = new Set(["platform_admin", "tenant_admin"]);

function facts(pairs, testid) {
  return h("dl", { class: "facts", "data-testid": testid },
    pairs.filter(([, v]) => v !== undefined).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

function step(title, testid, rows, headers, row, none) {
  return h("section", { "data-testid": testid, "aria-labelledby": `${testid}-title` },
    h("h2", { id: `${testid}-title` }, title, h("span", { class: "muted" }, ` (${rows.length} ${rows.length === 1 ? "row" : "rows"})`)),
    rows.length ? table(title, headers, rows.map((r) => h("tr", { "data-testid": "step-row" }, row(r))), `${testid}-table`)
      : h("p", { class: "muted", "data-testid": "step-empty" }, none));
}

function ruleRow(r) {
  return [h("td", { class: "mono" }, r.rule_id), h("td", {}, r.rule_type), h("td", {}, r.severity),
    h("td", {}, pill(r.result)), h("td", {}, typeof r.details === "string" ? r.details : JSON.stringify(r.details ?? ""))];
}

function valueText(v) {
  if (!v) return "—";
  if (typeof v.value === "number") return formatNumber(v.value);
  return `Unknown${v.reason ? ` — ${v.reason}` : ""}`;
}

export async function renderRunLog(ctx) {
  ctx.say(`Loading run ${ctx.runId}…`, { busy: true });
  const ev = await api.run(ctx.runId, ctx.tenant, ctx.signal);
  const run = ev.run;
  const d = ev.delivery;
  const values = d ? Object.entries(d.values || {}) : [];
  replaceChildren(ctx.main,
    h("p", {}, h("a", { href: ctx.hash({ view: "runs" }), "data-testid": "back-to-runs" }, "← Run history")),
    h("h1", { class: "dash-head", "data-testid": "run-title" }, `Run log: ${run.kpi_id || "?"} `, pill(run.status)),
    facts([
      ["Run", h("span", { class: "mono", "data-testid": "runlog-run-id" }, run.run_id)],
      ["Tenant", run.tenant_id],
      ["KPI / contract", `${run.kpi_id} v${run.contract_version ?? "?"}`],
      ["Trigger", `${run.trigger_type || "?"}${run.triggered_by ? ` by ${run.triggered_by}` : ""}`],
      ["Started", formatDateTime(run.started_at)],
      ["As of", run.as_of ? formatDateTime(run.as_of) : "—"],
      ["Finished", run.finished_at ? formatDateTime(run.finished_at) : "not ended"],
      ["Duration", duration(run.duration_s)],
      ["Retry", String(run.retry_seq ?? 0)],
      ["SLA", run.sla_breached ? h("span", { class: "breach" }, `breached${run.sla_reason ? ` — ${run.sla_reason}` : ""}`) : run.finished_at ? "within" : "unknown (not ended)"],
      ["Error", run.error_code ? `${run.error_code}: ${run.error_message || ""}` : "none"],
      ["Lineage", h("span", {}, h("span", { class: "mono" }, run.lineage_ref || "—"), lineageNote(ctx, run.lineage_ref))],
      ["Correction reason", run.correction_reason],
    ], "runlog-header"),
    h("div", { class: "mon-steps" },
      step("Sourcing", "step-sourcing", ev.sourcing, ["Type", "Source", "Version", "Rows", "Latest", "SQL hash"], (s) => [
        h("td", {}, s.source_type), h("td", { class: "mono" }, s.source_object), h("td", {}, s.source_version || "—"),
        h("td", { class: "num" }, s.count ?? "—"), h("td", {}, formatDateTime(s.latest_at)),
        h("td", { class: "mono" }, s.sql_hash ? String(s.sql_hash).slice(0, 16) : "—")],
        "No sourcing rows: this run read no source (a correction restates values; other runs that end early record none)."),
      step("Pre-validation", "step-pre", ev.pre_validation, ["Rule", "Type", "Severity", "Result", "Details"], ruleRow,
        "No pre-validation rows."),
      h("section", { "data-testid": "step-execution", "aria-labelledby": "step-execution-title" },
        h("h2", { id: "step-execution-title" }, "Execution"),
        h("p", {}, typeof run.rows_processed === "number" ? `${formatNumber(run.rows_processed)} source rows processed.` : "Rows processed: unknown.")),
      step("Post-validation", "step-post", ev.post_validation, ["Rule", "Type", "Severity", "Result", "Details"], ruleRow,
        "No post-validation rows."),
      h("section", { "data-testid": "step-delivery", "aria-labelledby": "step-delivery-title" },
        h("h2", { id: "step-delivery-title" }, "Delivery"),
        d ? [
          facts([["Verdict", d.verdict || "—"], ["Time grain", d.time_grain], ["Time range", d.time_range],
            ["View", d.scd_view || "as_reported"], ["Warnings", (d.warnings || []).join("; ") || "none"]], "delivery-facts"),
          table("Delivered values per period", ["Period", "Value", "Previous", "Time range"], values.map(([p, v]) =>
            h("tr", { "data-testid": "step-row", "data-period": p }, h("td", {}, p), h("td", { class: "num", "data-testid": "delivered-value" }, valueText(v)),
              h("td", { class: "num" }, typeof v?.previous === "number" ? formatNumber(v.previous) : "—"), h("td", {}, v?.time_range || d.time_range || "—"))),
          "step-delivery-table"),
        ] : h("p", { class: "muted", "data-testid": "step-empty" }, `Nothing delivered: the run ended ${run.status || "without an end row"}.`)),
      corrections(ctx, ev),
    ));
  ctx.say("");
}

function corrections(ctx, ev) {
  const parts = [h("h2", { id: "corrections-title" }, "Corrections")];
  if (ev.corrects) {
    parts.push(h("p", { "data-testid": "corrects" }, "This run restates ", runLink(ctx, ev.corrects.run_id),
      " (the original's rows are unchanged)."));
  } else if (ev.corrections.length) {
    parts.push(table("Corrections of this run", ["Correction run", "When", "By", "Why"], ev.corrections.map((c) =>
      h("tr", { "data-testid": "correction-row", "data-run-id": c.run_id }, h("td", {}, runLink(ctx, c.run_id)),
        h("td", {}, formatDateTime(c.started_at)), h("td", {}, c.triggered_by || "—"), h("td", {}, c.correction_reason || "—"))),
    "corrections-table"));
  } else {
    parts.push(h("p", { class: "muted", "data-testid": "no-corrections" }, ev.delivery ? "Not corrected." : "Nothing delivered, so nothing to correct."));
  }
  if (ev.delivery && !ev.corrects && CORRECTORS.has(ctx.role)) parts.push(correctionForm(ctx, ev));
  return h("section", { "data-testid": "step-corrections", "aria-labelledby": "corrections-title" }, parts);
}

function correctionForm(ctx, ev) {
  const periods = Object.keys(ev.delivery.values || {});
  const inputs = periods.map((p) => h("label", {}, `${p} value`, h("input", { type: "number", step: "any", name: p,
    "data-testid": `correct-${p}`, placeholder: valueText(ev.delivery.values[p]) })));
  const reason = h("textarea", { name: "reason", rows: 2, required: true, minlength: 3, maxlength: 1000, "data-testid": "correct-reason" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "correct-submit" }, "Append correction");
  const form = h("form", { class: "correction-form", "data-testid": "correction-form", onsubmit: async (e) => {
    e.preventDefault();
    const values = {};
    for (const input of form.querySelectorAll("input[type=number]")) if (input.value !== "") values[input.name] = Number(input.value);
    submit.disabled = true;
    try {
      const out = await api.correctRun(ev.run.run_id, ctx.tenant, { values, reason: reason.value });
      ctx.say(`Correction ${out.run_id} appended (audit record ${out.audit_record}); the original run is unchanged.`);
      ctx.navigate(ctx.hash({ view: "run", runId: out.run_id }));
    } catch (err) {
      submit.disabled = false;
      ctx.onError(err);
    }
  } },
  h("h3", {}, "Restate this run's values"),
  h("p", { class: "figure-source" }, "Appends a new run linked to this one (correction-of); this run's rows stay as they are. Audited."),
  h("div", { class: "correction-periods" }, inputs), h("label", {}, "Reason", reason), h("div", {}, submit));
  return form;
}
