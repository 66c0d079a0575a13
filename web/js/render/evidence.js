// The evidence drawer: a modal dialog showing the KPI run behind a number
// (GET /runs/{run_id}?tenant=..). Esc or the close button closes it; focus is trapped inside
// while open and returned to the button that opened it.

import { api } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { formatDateTime, formatDuration, formatNumber } from "../format.js";
import { STATUS_LABELS, statePill, statusBadge } from "../status.js";

const drawer = () => document.getElementById("evidence-drawer");
const backdrop = () => document.getElementById("evidence-backdrop");
let opener = null;
let controller = null;

export function initEvidenceDrawer() {
  drawer().addEventListener("keydown", onKeydown);
  backdrop().addEventListener("click", closeEvidence);
}

function onKeydown(event) {
  if (event.key === "Escape") {
    event.preventDefault();
    closeEvidence();
  } else if (event.key === "Tab") {
    const focusable = [
      ...drawer().querySelectorAll("button, a[href], [tabindex]:not([tabindex='-1'])"),
    ].filter((el) => !el.disabled && el.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }
}

export function isEvidenceOpen() {
  return !drawer().hidden;
}

export function closeEvidence() {
  if (drawer().hidden) return;
  controller?.abort();
  drawer().hidden = true;
  backdrop().hidden = true;
  document.body.classList.remove("drawer-open");
  if (opener && opener.isConnected) opener.focus();
  opener = null;
}

/**
 * Open the drawer for a tile's evidence. `onError(err)` receives API errors (401 handling lives
 * with the caller); the drawer itself shows a short inline message too.
 */
export async function openEvidence({ evidence, item, tenant, period, trigger, onError }) {
  opener = trigger || document.activeElement;
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  const body = h(
    "div",
    { class: "drawer-body", "aria-live": "polite", "aria-busy": "true" },
    h("p", {}, "Loading run…"),
  );
  replaceChildren(
    drawer(),
    h(
      "div",
      { class: "drawer-head" },
      h("h2", { id: "evidence-title" }, "Evidence: ", item.name || item.kpi_id),
      h(
        "button",
        { type: "button", class: "btn btn-quiet", "data-testid": "evidence-close", onclick: closeEvidence },
        "Close",
        h("span", { class: "visually-hidden" }, " evidence"),
      ),
    ),
    body,
  );
  drawer().hidden = false;
  backdrop().hidden = false;
  document.body.classList.add("drawer-open");
  drawer().querySelector("[data-testid=evidence-close]").focus();

  try {
    const data = await api.run(evidence.run_id, tenant, signal);
    replaceChildren(body, renderRun(data, evidence, period, item));
  } catch (err) {
    if (err.name === "AbortError") return;
    replaceChildren(
      body,
      h("p", { class: "notice notice-error" }, `Could not load run ${evidence.run_id}: ${err.message}`),
    );
    onError?.(err);
  } finally {
    body.removeAttribute("aria-busy");
  }
}

function field(label, value) {
  return [
    h("dt", {}, label),
    h("dd", {}, value === null || value === undefined || value === "" ? "—" : value),
  ];
}


function runDuration(run) {
  const start = Date.parse(run.started_at);
  const end = Date.parse(run.finished_at);
  return Number.isFinite(start) && Number.isFinite(end) ? formatDuration((end - start) / 1000) : null;
}

function renderRun(data, evidence, period, item) {
  const run = data.run || {};
  return [
    h(
      "section",
      { "aria-labelledby": "ev-run" },
      h("h3", { id: "ev-run" }, "Run"),
      h(
        "dl",
        { class: "facts" },
        field("Run id", h("code", { "data-testid": "evidence-run-id" }, run.run_id)),
        field("Run status", h("span", { "data-testid": "evidence-status" }, statePill(run.status))),
        field("KPI", run.kpi_id),
        field("Contract version", run.contract_version),
        field("Trigger", [run.trigger_type, run.triggered_by].filter(Boolean).join(" · ")),
        field("Started", h("time", { datetime: run.started_at || null }, formatDateTime(run.started_at))),
        field("Finished", h("time", { datetime: run.finished_at || null }, formatDateTime(run.finished_at))),
        field("Duration", runDuration(run)),
        field(
          "Rows processed",
          typeof run.rows_processed === "number" ? formatNumber(run.rows_processed) : null,
        ),
        field("SLA breached", run.sla_breached === true ? "Yes" : run.sla_breached === false ? "No" : null),
        field("Retry", typeof run.retry_seq === "number" ? formatNumber(run.retry_seq) : null),
        run.error_code || run.error_message
          ? field("Error", `${run.error_code || ""} ${run.error_message || ""}`.trim())
          : [],
        field("Lineage", run.lineage_ref ? h("code", {}, run.lineage_ref) : null),
      ),
      run.run_id && run.tenant_id
        ? h(
            "p",
            {},
            h(
              "a",
              {
                href: `monitoring.html#/${encodeURIComponent(run.tenant_id)}/run/${encodeURIComponent(run.run_id)}`,
                "data-testid": "evidence-runlog-link",
              },
              "Open the full run log",
            ),
            data.corrections?.length ? ` (corrected ${data.corrections.length}×)` : "",
          )
        : null,
    ),
    sourcesSection(data.sourcing, evidence.sources),
    validationSection("Pre-validation", "ev-pre", data.pre_validation),
    validationSection("Post-validation", "ev-post", data.post_validation),
    deliverySection(data.delivery, period, item),
  ];
}

function table(caption, headers, rows, testid) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-testid": testid },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

function sourcesSection(sourcing, tileSources) {
  const rows = (sourcing && sourcing.length ? sourcing : tileSources || []).map((s) => {
    const object = s.source_object ?? s.object;
    const fromTile = (tileSources || []).find((t) => t.object === object);
    const latest = s.latest_at ?? fromTile?.latest_at;
    return h(
      "tr",
      {},
      h("td", {}, s.source_type ?? s.type ?? "—"),
      h("td", {}, h("code", {}, object ?? "—")),
      h("td", { class: "num" }, typeof s.count === "number" ? formatNumber(s.count) : "—"),
      h("td", {}, latest ? h("time", { datetime: latest }, formatDateTime(latest)) : "—"),
    );
  });
  return h(
    "section",
    { "aria-labelledby": "ev-sources" },
    h("h3", { id: "ev-sources" }, "Sources"),
    rows.length
      ? table("Sources read by this run", ["Type", "Object", "Count", "Latest at"], rows, "evidence-sources")
      : h("p", { class: "muted" }, "No sources recorded."),
  );
}

function validationSection(title, id, results) {
  const rows = (results || []).map((r) =>
    h(
      "tr",
      {},
      h("td", {}, h("code", {}, r.rule_id ?? "—")),
      h("td", {}, r.rule_type ?? "—"),
      h("td", {}, r.severity ?? "—"),
      h("td", {}, statePill(r.result)),
      h("td", {}, r.details ?? ""),
    ),
  );
  return h(
    "section",
    { "aria-labelledby": id },
    h("h3", { id }, title),
    rows.length
      ? table(
          `${title} rule results`,
          ["Rule", "Type", "Severity", "Result", "Details"],
          rows,
          `evidence-${id.slice(3)}`,
        )
      : h("p", { class: "muted" }, "No rules recorded."),
  );
}

const isBand = (word) => typeof word === "string" && Object.hasOwn(STATUS_LABELS, word.toLowerCase());

const humanise = (key) => key.charAt(0).toUpperCase() + key.slice(1).replaceAll("_", " ");
const show = (v) =>
  typeof v === "number" ? formatNumber(v) : v === null || v === undefined ? "Unknown" : String(v);

/**
 * The delivered value. The contract has `delivery.value`; a delivery that carries one value per
 * period (`delivery.values[period].value`) is shown for the dashboard's period, plus a per-period table.
 */
function deliverySection(delivery, period, item) {
  const known = ["value", "values", "verdict", "time_grain", "time_range"];
  const extra = Object.entries(delivery || {}).filter(
    ([k, v]) => !known.includes(k) && v !== null && typeof v !== "object",
  );
  const perPeriod =
    delivery && delivery.values && typeof delivery.values === "object" ? delivery.values : null;
  const value = delivery && "value" in delivery ? delivery.value : perPeriod?.[period]?.value;
  return h(
    "section",
    { "aria-labelledby": "ev-delivery" },
    h("h3", { id: "ev-delivery" }, "Delivered value"),
    delivery
      ? [
          h(
            "dl",
            { class: "facts" },
            field(
              perPeriod && !("value" in delivery) ? `Value (${period})` : "Value",
              h("strong", { "data-testid": "evidence-value" }, show(value)),
            ),
            // the status is the cockpit's one vocabulary, as the page shows it; a run's own
            // contract verdict is shown only when it is a word of that vocabulary
            item && "status" in item ? field("Status", statusBadge(item.status)) : null,
            isBand(delivery.verdict) ? field("Run verdict", statusBadge(String(delivery.verdict).toLowerCase())) : null,
            field("Time grain", delivery.time_grain),
            field("Time range", delivery.time_range),
            extra.map(([k, v]) => field(humanise(k), show(v))),
          ),
          perPeriod ? periodValues(perPeriod) : null,
          Array.isArray(delivery.warnings) && delivery.warnings.length
            ? h(
                "ul",
                { class: "warnings" },
                delivery.warnings.map((w) => h("li", {}, typeof w === "string" ? w : JSON.stringify(w))),
              )
            : null,
        ]
      : h("p", { class: "muted" }, "This run delivered no value."),
  );
}

function periodValues(values) {
  const rows = Object.entries(values).map(([key, v]) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, key),
      h("td", { class: "num" }, show(v?.value)),
      h("td", { class: "num" }, v && "previous" in v ? show(v.previous) : "—"),
      h("td", {}, v?.time_range ?? "—"),
      h("td", {}, v?.reason ?? ""),
    ),
  );
  return table(
    "Delivered value per period",
    ["Period", "Value", "Previous", "Time range", "Reason"],
    rows,
    "evidence-values",
  );
}
