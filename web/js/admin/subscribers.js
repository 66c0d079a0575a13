// Alert subscribers (admin.html#/subscribers; docs/alerts.md "Subscribers"): who receives the
// tenant's alerts — a person, the personas whose alerts they take, the escalation targets they stand
// on call for, a minimum severity and up to ten channels. Tenant and platform admins (alerts:tune)
// add, edit, disable and remove them; every write goes through the alerts API (audited). A new
// webhook's signing secret is in the answer that made it only: shown here once.

import { formatDateTime, PERSONA_LABELS } from "../format.js";
import { h, replaceChildren } from "../dom.js";
import { statePill } from "../status.js";
import { adminApi as admin } from "../api.js";
import {
  CARRIES,
  CHANNEL_TYPES,
  SEVERITIES,
  channelChip,
  channelLabel,
  maskedAddress,
  minSeverityText,
  personaName,
  plural,
  words,
} from "./channels.js";

export const WRITERS = ["platform_admin", "tenant_admin"];
const FIELD_LABELS = {
  name: "Name",
  email: "E-mail",
  personas: "Personas",
  oncall: "On call",
  channels: "Channels",
  min_severity: "Minimum severity",
  enabled: "Enabled",
  reason: "Reason",
  expected_revision: "Revision",
};

/** Only admins manage subscribers: anyone else is told so (the API would refuse them 403). */
export function adminsOnly(view, what) {
  view.say(`${what}: tenant administrators only`);
  replaceChildren(view.main, h("section", { class: "admin-panel" }, h("h1", {}, what),
    h("p", { class: "notice", "data-testid": "admins-only" }, "Only tenant and platform administrators manage alert subscribers and read the outbox.")));
}

/** The pack's personas (every persona some rule delivers to), in the cockpit's order. */
function packPersonas(rules) {
  const found = new Set(rules.rules.flatMap((r) => (r.deliver_to || []).map((d) => d.persona)));
  const order = Object.keys(PERSONA_LABELS);
  return [...found].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

/** The escalation targets of the tenant's routes (receivers, then who each escalates to). */
function routeTargets(routes) {
  return [...new Set(routes.routes.flatMap((r) => [r.receiver, ...(r.escalation || []).map((s) => s.notify)]))];
}

/** A stored subscriber as the body of a PUT (what the API's SubscriberIn takes). */
export function bodyOf(sub, changes = {}) {
  return {
    name: sub.name,
    email: sub.email,
    personas: sub.personas,
    oncall: sub.oncall,
    channels: sub.channels.map((c) => ({ type: c.type, address: c.address, ...(c.type === "webhook" ? { carries: c.carries } : {}) })),
    min_severity: sub.min_severity,
    enabled: sub.enabled,
    expected_revision: sub.revision,
    ...changes,
  };
}

/** The field an API refusal names (details.path: "body.channels.1", "personas", …) in words. */
export function fieldOf(path) {
  const parts = String(path || "").split(".").filter((p) => p && p !== "body");
  if (parts[0] === "channels" && /^\d+$/.test(parts[1] || "")) return { key: "channels", index: Number(parts[1]), label: `Channel ${Number(parts[1]) + 1}` };
  return parts[0] ? { key: parts[0], index: null, label: FIELD_LABELS[parts[0]] || words(parts[0]) } : null;
}

/** The API's message without the path it starts with (the page names the field itself). */
export function messageOf(err) {
  const path = err.details?.path;
  let text = String(err.message || "");
  if (path && text.startsWith(`${path}: `)) text = text.slice(path.length + 2);
  return text.replace(/^Value error, /, "");
}

function checkboxes(name, options, checked, label) {
  return h("fieldset", { class: "check-group", "data-field": name, "data-testid": `subscriber-${name}` }, h("legend", {}, label),
    options.map(([value, text]) => h("label", {}, h("input", { type: "checkbox", name, value, checked: checked.includes(value) }), ` ${text}`)));
}

function channelRow(ch) {
  const type = h("select", { name: "channel-type", "data-testid": "channel-type", "aria-label": "Channel type" },
    Object.entries(CHANNEL_TYPES).map(([k, c]) => h("option", { value: k, selected: ch.type === k }, `${c.icon} ${c.label}`)));
  const address = h("input", { name: "channel-address", value: ch.address || "", size: 46, "data-testid": "channel-address",
    "aria-label": "Address", autocomplete: "off", placeholder: CHANNEL_TYPES[ch.type || "email"].placeholder });
  const carries = h("span", { class: "carries", "data-testid": "channel-carries" }, "Carries:",
    CARRIES.map(([k, text]) => h("label", {}, h("input", { type: "checkbox", value: k, checked: (ch.carries || ["pagerduty"]).includes(k) }), ` ${text}`)));
  const sync = () => {
    carries.hidden = type.value !== "webhook";
    address.placeholder = CHANNEL_TYPES[type.value].placeholder;
  };
  type.addEventListener("change", sync);
  sync();
  const row = h("div", { class: "channel-row", "data-testid": "channel-row" }, type, address, carries,
    h("button", { type: "button", class: "link-button", "data-testid": "channel-remove", onclick: () => row.remove() }, "Remove"));
  row.read = () => ({ type: type.value, address: address.value.trim(),
    ...(type.value === "webhook" ? { carries: [...carries.querySelectorAll("input:checked")].map((i) => i.value) } : {}) });
  return row;
}

function subscriberForm(view, ctx, sub, done) {
  const s = sub || { name: "", email: "", personas: [], oncall: [], channels: [{ type: "email", address: "" }], min_severity: "info", enabled: true };
  const rows = h("div", { class: "channel-rows" });
  for (const ch of s.channels) rows.append(channelRow(ch));
  const error = h("p", { class: "notice notice-error form-error", role: "alert", "data-testid": "subscriber-form-error", hidden: true });
  const targets = [...new Set([...ctx.targets, ...s.oncall])];
  const form = h("form", { class: "subscriber-form", novalidate: true, "data-testid": "subscriber-form", onsubmit: async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    error.hidden = true;
    const data = new FormData(form);
    const body = {
      name: String(data.get("name")).trim(),
      email: String(data.get("email")).trim(),
      personas: data.getAll("personas"),
      oncall: data.getAll("oncall"),
      channels: [...rows.children].map((r) => r.read()),
      min_severity: data.get("min_severity"),
      enabled: data.get("enabled") === "on",
      reason: String(data.get("reason")).trim() || (sub ? "edited in the admin console" : "added in the admin console"),
      ...(sub ? { expected_revision: sub.revision } : {}),
    };
    try {
      const saved = sub ? await admin.updateSubscriber(view.tenant, sub.subscriber_id, body) : await admin.createSubscriber(view.tenant, body);
      await done(`${saved.name}: ${sub ? "saved" : "added"}`, saved);
    } catch (err) {
      if (!err.status || err.status === 401) return view.showError(err);
      const field = fieldOf(err.details?.path);
      const kind = field?.index != null && rows.children[field.index]?.read().type;
      if (kind) field.label += ` (${channelLabel(kind)})`;
      replaceChildren(error, field ? h("strong", { "data-testid": "form-error-field" }, `${field.label}: `) : null,
        h("span", { "data-testid": "form-error-message" }, messageOf(err)),
        err.code === "revision_mismatch" ? " — someone saved it in between: reload the section and edit again." : null);
      error.hidden = false;
      const target = field?.index != null ? rows.children[field.index] : field && form.querySelector(`[data-field="${field.key}"], [name="${field.key}"]`);
      target?.setAttribute("aria-invalid", "true");
      error.scrollIntoView({ block: "nearest" });
    }
  } },
  h("div", { class: "form-line" },
    h("label", {}, "Name", h("input", { name: "name", value: s.name, size: 28, "data-testid": "subscriber-name", "data-field": "name" })),
    h("label", {}, "E-mail (who the subscriber is)", h("input", { name: "email", value: s.email, size: 30, "data-testid": "subscriber-email", "data-field": "email" })),
    h("label", {}, "Minimum severity", h("select", { name: "min_severity", "data-testid": "subscriber-min-severity", "data-field": "min_severity" },
      SEVERITIES.map((v) => h("option", { value: v, selected: s.min_severity === v }, minSeverityText(v))))),
    h("label", { class: "inline-check" }, h("input", { type: "checkbox", name: "enabled", checked: s.enabled, "data-testid": "subscriber-enabled" }), " Enabled")),
  checkboxes("personas", ctx.personas.map((p) => [p, personaName(p)]), s.personas, "Takes the alerts of"),
  checkboxes("oncall", targets.map((t) => [t, words(t)]), s.oncall, "On call for (escalation pages)"),
  h("fieldset", { class: "check-group", "data-field": "channels" }, h("legend", {}, "Channels (up to ten)"), rows,
    h("button", { type: "button", class: "link-button", "data-testid": "channel-add", onclick: () => rows.append(channelRow({ type: "email" })) }, "+ Add a channel"),
    h("p", { class: "muted small" }, "E-mail and SMS are delivered by SNS (an e-mail address confirms its subscription once); Slack, Teams, PagerDuty and webhooks are posted by the alert notifier. A webhook's posts are signed with a secret shown once, when the channel is made.")),
  h("label", { class: "reason" }, "Reason (kept in the audit trail)", h("input", { name: "reason", size: 60, placeholder: sub ? "edited in the admin console" : "added in the admin console" })),
  error,
  h("div", { class: "admin-actions" },
    h("button", { type: "submit", class: "primary", "data-testid": "subscriber-save" }, sub ? "Save subscriber" : "Add subscriber"),
    sub ? h("button", { type: "button", "data-testid": "subscriber-cancel", onclick: () => done("").catch(view.showError) }, "Cancel") : null));
  return form;
}

function secretsPanel(saved) {
  const made = (saved?.channels || []).filter((c) => c.secret);
  if (!made.length) return null;
  return h("section", { class: "admin-panel secret-panel", "data-testid": "webhook-secret", role: "status" },
    h("h2", {}, "Webhook signing secret — copy it now, it is not shown again"),
    made.map((c) => h("p", {}, `${saved.name}'s webhook ${maskedAddress(c.type, c.address)}: `,
      h("code", { class: "mono secret", "data-testid": "webhook-secret-value" }, c.secret), " ",
      h("button", { type: "button", onclick: (e) => navigator.clipboard?.writeText(c.secret).then(() => { e.target.textContent = "Copied"; }) }, "Copy"))),
    h("p", { class: "muted" }, "The receiver checks the X-CompanyOS-Signature header (t=<unix>,v1=<HMAC-SHA256 of \"<t>.<body>\">) with it. Lost it? Remove the channel, save, and add it again for a new one."));
}

function removeControls(view, sub, cell, again) {
  const reason = h("input", { name: "reason", size: 24, placeholder: "why (audit trail)", "aria-label": `Why remove ${sub.name}`, "data-testid": "remove-reason" });
  const hint = h("span", { class: "muted small", role: "alert" });
  replaceChildren(cell, h("div", { class: "admin-actions remove-confirm" }, reason,
    h("button", { class: "primary", "data-testid": "remove-confirm", onclick: async () => {
      if (!reason.value.trim()) { hint.textContent = "Give a reason: it goes into the audit trail."; reason.focus(); return; }
      try { await admin.deleteSubscriber(view.tenant, sub.subscriber_id, reason.value.trim()); await again(`${sub.name}: removed`); }
      catch (err) { view.showError(err); }
    } }, "Remove subscriber"),
    h("button", { onclick: () => again("").catch(view.showError) }, "Cancel"), hint));
  reason.focus();
}

function row(view, sub, again) {
  const actions = h("td", {});
  actions.append(h("div", { class: "admin-actions row-actions" },
    h("button", { "data-testid": "subscriber-edit", onclick: () => again("", { editing: sub.subscriber_id }).catch(view.showError) }, "Edit"),
    h("button", { "data-testid": "subscriber-toggle", onclick: async () => {
      try {
        await admin.updateSubscriber(view.tenant, sub.subscriber_id, bodyOf(sub, { enabled: !sub.enabled,
          reason: `${sub.enabled ? "disabled" : "enabled"} in the admin console` }));
        await again(`${sub.name}: ${sub.enabled ? "disabled" : "enabled"}`);
      } catch (err) { view.showError(err); }
    } }, sub.enabled ? "Disable" : "Enable"),
    h("button", { "data-testid": "subscriber-remove", onclick: () => removeControls(view, sub, actions, again) }, "Remove"),
    h("a", { href: `#/outbox/${encodeURIComponent(sub.subscriber_id)}`, "data-testid": "subscriber-outbox" }, "Outbox")));
  return h("tr", { "data-testid": "subscriber-row", "data-subscriber": sub.subscriber_id, "data-email": sub.email },
    h("td", { title: `Subscriber ${sub.subscriber_id}, revision ${sub.revision}; changed by ${sub.updated_by}` },
      h("strong", { "data-testid": "subscriber-name-cell" }, sub.name),
      h("div", { "data-testid": "subscriber-email" }, sub.email),
      h("div", { class: "muted small" }, `changed ${formatDateTime(sub.updated_at)}`)),
    h("td", {}, h("div", { "data-testid": "subscriber-personas" }, sub.personas.map(personaName).join(", ")),
      sub.oncall.length ? h("div", { class: "small" }, h("span", { class: "muted" }, "On call: "),
        h("span", { "data-testid": "subscriber-oncall" }, sub.oncall.map(words).join(", "))) : null),
    h("td", {}, h("div", { class: "chips" }, sub.channels.map(channelChip))),
    h("td", {}, sub.enabled ? statePill("active", { text: "Enabled", testid: "subscriber-state" }) : statePill("disabled", { text: "Disabled", testid: "subscriber-state" }),
      h("div", { class: "small" }, minSeverityText(sub.min_severity))),
    actions);
}

export async function renderSubscribers(view, message = "", { editing = null, saved = null } = {}) {
  if (!WRITERS.includes(view.role)) return adminsOnly(view, "Alert subscribers");
  const [data, rules, routes] = await Promise.all([admin.subscribers(view.tenant), admin.alertRules(view.tenant), admin.alertRoutes(view.tenant)]);
  const ctx = { personas: packPersonas(rules), targets: routeTargets(routes) };
  const again = (msg, opts = {}) => renderSubscribers(view, msg, opts);
  const subs = data.subscribers;
  const edited = editing && subs.find((s) => s.subscriber_id === editing);
  const off = subs.filter((s) => !s.enabled).length;
  view.say(message || `${plural(subs.length, "alert subscriber")}${off ? ` (${off} disabled)` : ""}`);
  const form = subscriberForm(view, ctx, edited, (msg, out) => again(msg, { saved: out }));
  replaceChildren(view.main,
    secretsPanel(saved),
    h("section", { class: "admin-panel" }, h("h1", {}, "Alert subscribers"),
      h("p", { "data-testid": "subscribers-summary" }, `${plural(subs.length, "subscriber")}${off ? `, ${off} disabled` : ""}. Each takes the alerts of its personas at or above its minimum severity on the channels that carry them, and the escalation pages of the targets it is on call for. `,
        h("a", { href: "#/outbox" }, "Outbox"), ": what each one received."),
      h("div", { class: "table-scroll" }, h("table", { class: "admin-table", "data-testid": "subscribers-table" },
        h("thead", {}, h("tr", {}, ["Subscriber", "Takes the alerts of", "Channels", "State", ""].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, subs.length ? subs.map((s) => row(view, s, again))
          : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No subscribers yet: alerts reach only the cockpit's inbox.")))))),
    h("section", { class: "admin-panel", "data-testid": "subscriber-form-panel" }, h("h2", {}, edited ? `Edit ${edited.name}` : "Add a subscriber"), form));
  if (edited) form.scrollIntoView({ block: "start" });
}

