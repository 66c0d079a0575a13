// How the Subscribers and Outbox sections print an alert channel, a persona, an on-call target and
// a severity (docs/alerts.md "Subscribers"): words and a type icon, never a raw id; a webhook URL or
// a PagerDuty routing key is a credential and is printed masked ("hooks.slack.com/…", "…abcd").

import { h } from "../dom.js";
import { PERSONA_LABELS, personaLabel } from "../format.js";

/** The endpoint kinds of a subscriber (the API's ChannelType) and how an address of each looks. */
export const CHANNEL_TYPES = {
  email: { label: "E-mail", icon: "✉", placeholder: "name@example.com" },
  sms: { label: "SMS", icon: "☎", placeholder: "+14155550123" },
  slack: { label: "Slack", icon: "#", placeholder: "https://hooks.slack.com/services/…" },
  teams: { label: "Teams", icon: "▦", placeholder: "https://….webhook.office.com/…" },
  pagerduty: { label: "PagerDuty", icon: "⚑", placeholder: "32-character Events v2 routing key" },
  webhook: { label: "Webhook", icon: "↗", placeholder: "https://…" },
};
/** The pack's message channels a webhook can carry. */
export const CARRIES = [
  ["pagerduty", "Pages (PagerDuty)"],
  ["email", "E-mail messages"],
  ["slack", "Chat messages"],
  ["sms", "SMS texts"],
];
export const SEVERITIES = ["critical", "high", "warning", "medium", "info"];
const ACRONYMS = new Set(["ceo", "cto", "ciso", "cfo", "sre", "slo", "sla", "cve", "it", "qa", "api", "sms"]);
const SPELLED = { finops: "FinOps", devops: "DevOps", pagerduty: "PagerDuty" };

export function channelLabel(type) {
  return CHANNEL_TYPES[type]?.label || words(type);
}

/** "sre_primary" → "SRE primary", "SLOBudgetExhausted" → "SLO budget exhausted". */
export function words(name) {
  const parts = String(name ?? "")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[_\s]+/)
    .filter(Boolean);
  return parts
    .map((p, i) => {
      if (SPELLED[p.toLowerCase()]) return SPELLED[p.toLowerCase()];
      if (ACRONYMS.has(p.toLowerCase()) || (p.length > 1 && p === p.toUpperCase())) return p.toUpperCase();
      return i === 0 ? p[0].toUpperCase() + p.slice(1).toLowerCase() : p.toLowerCase();
    })
    .join(" ");
}

export function personaName(persona) {
  return PERSONA_LABELS[persona] ? personaLabel(persona) : words(persona);
}

export function severityName(severity) {
  return words(severity);
}

/** "critical only", "high and above", … "all severities" (info and above). */
export function minSeverityText(severity) {
  if (severity === SEVERITIES[0]) return "Critical only";
  if (severity === SEVERITIES.at(-1)) return "All severities";
  return `${severityName(severity)} and above`;
}

/** The address as the page prints it: e-mail and phone as they are, URLs and keys masked. */
export function maskedAddress(type, address) {
  const text = String(address ?? "");
  if (type === "pagerduty") return `…${text.slice(-4)}`;
  if (["slack", "teams", "webhook"].includes(type)) {
    try {
      return `${new URL(text).host}/…`;
    } catch {
      return "…";
    }
  }
  return text;
}

export function deliveredBy(ch) {
  return ch.delivered_by === "sns" ? "SNS" : "notifier";
}

/** A channel as a chip: type icon and label, masked address, who delivers it. */
export function channelChip(ch) {
  const by = ch.delivered_by === "sns" ? "SNS (a subscription of the alerts topic)" : "the alert notifier (HTTPS post)";
  const carries = ch.type === "webhook" ? `; carries ${(ch.carries || []).map((c) => carriesLabel(c)).join(", ")}` : "";
  return h(
    "span",
    { class: "channel-chip", "data-testid": "channel-chip", "data-type": ch.type, title: `Delivered by ${by}${carries}` },
    h("span", { class: "chip-icon", "aria-hidden": "true" }, CHANNEL_TYPES[ch.type]?.icon || "•"),
    h("span", { class: "chip-type" }, channelLabel(ch.type)),
    h("span", { class: "chip-address" }, maskedAddress(ch.type, ch.address)),
    h("span", { class: "chip-by" }, `via ${deliveredBy(ch)}`),
  );
}

export function carriesLabel(channel) {
  return (CARRIES.find(([k]) => k === channel) || [channel, words(channel)])[1];
}

/** "1 subscriber", "3 subscribers". */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
