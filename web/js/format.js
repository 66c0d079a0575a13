// Formatting of values that come from the API. No numbers are invented here:
// every function takes an API value and only decides how to print it.

// Status words, icons and classes live in status.js (the one status map of every page).

export const PERSONA_LABELS = {
  ceo: "CEO",
  cto: "CTO",
  ciso: "CISO",
  ops: "Head of Ops",
  product: "Head of Product",
  // the alert pack's other personas (alert subscribers take them; no dashboard of their own)
  cfo_office: "CFO office",
  data_quality: "Data quality",
  platform_engineering: "Platform engineering",
};

export const PERSONA_TITLES = {
  ceo: "Business overview",
  cto: "Technical health",
  ciso: "Security posture",
  ops: "Platform operations",
  product: "Product adoption",
};

export function personaLabel(persona) {
  return PERSONA_LABELS[persona] || persona;
}

const numberFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function formatNumber(value) {
  return typeof value === "number" && Number.isFinite(value) ? numberFmt.format(value) : "Unknown";
}

const UNIT_SUFFIX = {
  per_day: "/day",
  per_week: "/week",
  per_month: "/month",
  percent: " pp",
  pct: " pp",
  hours: " h",
  minutes: " min",
  seconds: " s",
  days: " d",
};

const CURRENCIES = { usd: "USD", eur: "EUR", gbp: "GBP" };

/** A value in its unit when the unit is a currency ("$1,268.20"), else the plain number. */
export function formatInUnit(value, unit) {
  const currency = CURRENCIES[unit];
  if (currency && typeof value === "number" && Number.isFinite(value)) {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
  }
  return formatNumber(value);
}

/** A change in a KPI's unit, signed: "+0.33/day", "-2 pp" (percent deltas are percentage points),
 * "−$84.02" for a currency. */
export function formatChange(change, unit) {
  if (typeof change !== "number" || !Number.isFinite(change)) return "";
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  if (CURRENCIES[unit]) return `${sign}${formatInUnit(Math.abs(change), unit)}`;
  const suffix =
    UNIT_SUFFIX[unit] ??
    (unit && !["count", "ratio", "number"].includes(unit) ? ` ${unit.replaceAll("_", " ")}` : "");
  return `${sign}${numberFmt.format(Math.abs(change))}${suffix}`;
}

export function deltaArrow(change) {
  if (typeof change !== "number" || change === 0) return "▬";
  return change > 0 ? "▲" : "▼";
}

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function formatDateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTimeFmt.format(d);
}

export function formatDate(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateFmt.format(d);
}

/** A pause's ETA as the admin typed it ("Friday 18:00 UTC"), or a date when it is an ISO instant. */
export function etaText(eta) {
  return /^\d{4}-\d{2}-\d{2}/.test(String(eta)) ? formatDateTime(eta) : String(eta);
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Seconds → "42 s", "5 min", "3 h", "2 d". */
export function formatDuration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < MINUTE) return `${s} s`;
  if (s < HOUR) return `${Math.floor(s / MINUTE)} min`;
  if (s < DAY) return `${Math.floor(s / HOUR)} h`;
  return `${Math.floor(s / DAY)} d`;
}

export function formatMemberships(memberships) {
  return Object.entries(memberships || {})
    .map(([tenant, role]) => `${tenant}: ${role}`)
    .join(", ");
}
