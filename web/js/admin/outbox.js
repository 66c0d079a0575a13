// The alert outbox (admin.html#/outbox, #/outbox/{subscriber}): the notifier's delivery log, newest
// first — the tenant's, or one subscriber's — with what each channel received, rendered (e-mail
// subject and text, the SMS text, the Slack / Teams / PagerDuty / webhook JSON). On the local stack
// nothing leaves the machine: every delivery is `recorded`, the log is what would have been sent.

import { formatDateTime } from "../format.js";
import { h, replaceChildren } from "../dom.js";
import { statePill } from "../status.js";
import { adminApi as admin } from "../api.js";
import { CHANNEL_TYPES, channelLabel, personaName, plural, severityName, words } from "./channels.js";
import { WRITERS, adminsOnly } from "./subscribers.js";

const LIMIT = 200;
const STATUS_TEXT = {
  recorded: "Recorded locally — not sent",
  handed_to_sns: "Handed to SNS",
  sent: "Sent",
};

/** A delivery's status in words, coloured as its state: sent green, failed red, the others grey. */
export function statusText(n) {
  if (n.status === "failed") return `Failed: ${String(n.detail || "").split(":")[0] || "unknown error"}`;
  return STATUS_TEXT[n.status] || words(n.status);
}

function statusPill(n) {
  const state = n.status === "sent" ? "ok" : n.status === "failed" ? "failed" : n.status;
  const pill = statePill(state, { text: statusText(n), testid: "outbox-status" });
  pill.title = n.detail || "";
  pill.dataset.status = n.status;
  return pill;
}

/** What the message was about: "Firing — for the CTO" or "Escalation page (level 0) — SRE primary". */
function about(a) {
  if (a.kind === "escalation") {
    // the level as the page's own subject prints it ("[PAGE L0]": the route's receiver is level 0)
    return `Escalation page${a.level ? ` (level ${a.level})` : ""} — ${words(a.target)}`;
  }
  return `${words(a.status || "alert")} — for the ${personaName(a.persona)}`;
}

function parsed(body) {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/** The line the collapsed body shows: the subject, the chat text, the page's summary, the SMS. */
function headline(n, json) {
  const r = n.rendered || {};
  const card = json?.attachments?.[0]?.content?.body?.find?.((b) => b.text)?.text;
  const text = r.subject || json?.text || json?.payload?.summary || card || (json ? null : String(r.body || "").split("\n")[0]);
  return text || `${channelLabel(n.channel_type)} message`;
}

function renderedBody(n) {
  const r = n.rendered || {};
  const json = parsed(r.body);
  const meta = [
    r.url ? ["Posted to", r.url] : null,
    r.subject ? ["Subject", r.subject] : null,
    ...Object.entries(r.headers || {}).map(([k, v]) => [k, v]),
  ].filter(Boolean);
  return h("details", { class: "outbox-body", "data-testid": "outbox-body" },
    h("summary", {}, headline(n, json)),
    meta.length ? h("dl", { class: "outbox-meta" }, meta.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v)])) : null,
    h("pre", { class: "outbox-pre", "data-testid": "outbox-rendered" }, json ? JSON.stringify(json, null, 2) : String(r.body ?? "")));
}

function outboxRow(n, showWho) {
  const a = n.attributes || {};
  return h("tr", { "data-testid": "outbox-row", "data-notification": n.notification_id, "data-status": n.status, "data-channel": n.channel_type },
    h("td", { title: `Message ${n.message_id}` }, h("div", { class: "nowrap" }, formatDateTime(n.delivered_at)),
      showWho ? h("div", { class: "small", "data-testid": "outbox-who" }, n.subscriber_name || "a removed subscriber") : null),
    h("td", { class: "nowrap" }, h("span", { "aria-hidden": "true" }, `${CHANNEL_TYPES[n.channel_type]?.icon || "•"} `), channelLabel(n.channel_type)),
    h("td", { title: a.rule || "" }, h("strong", {}, words(a.rule)),
      h("div", { class: "muted small" }, h("span", { "data-testid": "outbox-severity" }, severityName(a.severity)), ` · ${about(a)}`)),
    h("td", { class: "outbox-status" }, statusPill(n)),
    h("td", { class: "outbox-message" }, renderedBody(n)));
}

function counts(notes) {
  const by = {};
  for (const n of notes) by[statusText(n)] = (by[statusText(n)] || 0) + 1;
  return Object.entries(by).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(", ");
}

export async function renderOutbox(view, subscriberId = null) {
  if (!WRITERS.includes(view.role)) return adminsOnly(view, "Alert outbox");
  const [subs, data] = await Promise.all([admin.subscribers(view.tenant),
    subscriberId ? admin.subscriberNotifications(view.tenant, subscriberId, LIMIT) : admin.notifications(view.tenant, LIMIT)]);
  const notes = data.notifications;
  const who = data.subscriber || null;
  const picker = h("select", { "data-testid": "outbox-subscriber", "aria-label": "Whose outbox",
    onchange: (e) => { window.location.hash = e.target.value ? `#/outbox/${encodeURIComponent(e.target.value)}` : "#/outbox"; } },
  h("option", { value: "" }, "Every subscriber"),
  subs.subscribers.map((s) => h("option", { value: s.subscriber_id, selected: s.subscriber_id === subscriberId }, s.name)));
  const recorded = notes.filter((n) => n.status === "recorded").length;
  view.say(`${plural(notes.length, "notification")}${who ? ` to ${who.name}` : ""}, newest first`);
  replaceChildren(view.main, h("section", { class: "admin-panel" },
    h("h1", {}, who ? `Outbox of ${who.name}` : "Alert outbox"),
    h("p", { class: "notice", "data-testid": "outbox-local-note" },
      h("strong", {}, "On the local stack nothing leaves the machine. "),
      "No e-mail, SMS, Slack, Teams or PagerDuty message is sent: each is recorded here as its subscriber would have received it (webhook URLs and routing keys masked). In AWS, e-mail and SMS are handed to SNS and the others posted by the alert notifier."),
    h("div", { class: "admin-search" }, h("label", {}, "Whose", picker),
      who ? h("a", { href: "#/subscribers" }, "Back to the subscribers") : null),
    h("p", { "data-testid": "outbox-summary" }, notes.length
      ? `${plural(notes.length, "notification")}, newest first${notes.length >= LIMIT ? ` (the newest ${LIMIT})` : ""}: ${counts(notes)}.`
      : "No notifications yet: no alert has reached a subscriber's channel.",
    recorded && recorded === notes.length ? " Nothing was sent." : null),
    notes.length ? h("div", { class: "table-scroll" }, h("table", { class: "admin-table outbox-table", "data-testid": "outbox-table" },
      h("thead", {}, h("tr", {}, [who ? "When" : "When, to whom", "Channel", "Alert", "Status", "Message"].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, notes.map((n) => outboxRow(n, !who))))) : null));
}
