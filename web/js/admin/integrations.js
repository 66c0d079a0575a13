// Integrations (admin.html#/integrations): the tenant's trace and log deep-link URL templates, the
// links the incident and service drill-downs open in Grafana Tempo / AWS X-Ray and Grafana Loki /
// CloudWatch Logs Insights. Any member sees them; admins edit them. The admin API checks every
// template (https only, known {{placeholders}}, bounded length) and refuses a stale edit (someone
// saved in between: reload); each save is one audit event.

import { formatDateTime } from "../format.js";
import { h, replaceChildren } from "../dom.js";
import { adminApi as admin } from "../api.js";

const WRITERS = ["platform_admin", "tenant_admin"];
const KINDS = [
  ["trace", "Traces", "trace_system", "trace_url_template"],
  ["log", "Logs", "log_system", "log_url_template"],
];

function current(data, [kind, label, systemKey, templateKey]) {
  const template = data.deeplinks[templateKey];
  const system = data.systems[kind][data.deeplinks[systemKey]] || null;
  return h("tr", { "data-testid": "integration-row", "data-kind": kind },
    h("th", { scope: "row" }, label),
    h("td", {}, system || h("span", { class: "muted" }, "Not set")),
    h("td", {}, template ? h("code", { class: "mono template", "data-testid": "integration-template" }, template)
      : h("span", { class: "muted" }, "No link: the drill-downs say it is not configured")));
}

function field(data, [kind, label, systemKey, templateKey]) {
  const systems = data.systems[kind];
  const select = h("select", { name: systemKey, "data-testid": `${kind}-system` },
    h("option", { value: "" }, "None"),
    Object.entries(systems).map(([id, name]) => h("option", { value: id, selected: data.deeplinks[systemKey] === id }, name)));
  const text = h("textarea", { name: templateKey, rows: 3, cols: 90, maxlength: data.max_length, "data-testid": `${kind}-template`,
    placeholder: "https://… with {{service}}, {{start_ms}}, {{end_ms}} …" }, data.deeplinks[templateKey] || "");
  return h("fieldset", { class: "admin-panel integration-field" }, h("legend", {}, label),
    h("label", {}, "Store", select), h("label", {}, "URL template", text));
}

function editForm(view, data, done) {
  const form = h("form", { "data-testid": "integrations-form", onsubmit: async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const body = { expected_revision: data.revision, reason: "edited in the admin console" };
    for (const [, , systemKey, templateKey] of KINDS) {
      body[systemKey] = values[systemKey] || null;
      body[templateKey] = values[templateKey].trim() || null;
    }
    try {
      await admin.saveDeepLinks(view.tenant, body);
      await done("Deep-link templates saved");
    } catch (err) { view.showError(err); }
  } },
  KINDS.map((k) => field(data, k)),
  h("p", { class: "muted" }, "Placeholders: ", data.placeholders.map((p) => h("code", {}, `{{${p}}} `)),
    " — values are URL-encoded; the window is the incident's or the period's."),
  h("button", { type: "submit", class: "primary", "data-testid": "integrations-save" }, "Save templates"));
  return form;
}

export async function renderIntegrations(view, message = "") {
  const data = await admin.deepLinks(view.tenant);
  const canWrite = WRITERS.includes(view.role);
  const changed = data.updated_at ? `last changed ${formatDateTime(data.updated_at)} (revision ${data.revision})` : "never set";
  view.say(message || `Trace and log links: ${changed}`);
  replaceChildren(view.main,
    h("section", { class: "admin-panel" }, h("h1", {}, "Integrations"),
      h("p", { "data-testid": "integrations-summary" }, "Trace and log deep links of the incident and service drill-downs; ", changed, "."),
      h("table", { class: "admin-table", "data-testid": "integrations-table" },
        h("thead", {}, h("tr", {}, ["Link", "Store", "URL template"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, KINDS.map((k) => current(data, k))))),
    canWrite ? h("section", { class: "admin-panel" }, h("h2", {}, "Edit the deep-link templates"),
      editForm(view, data, (msg) => renderIntegrations(view, msg))) : null);
}
