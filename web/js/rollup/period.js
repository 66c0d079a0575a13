// The roll-up period: 7d / 28d / 90d / 365d or a custom start..end range, persisted in
// localStorage so it survives reloads (the token is not: it stays in sessionStorage).

export const PERIOD_KEY = "rollup.period";
export const PERIODS = ["7d", "28d", "90d", "365d"];
export const DEFAULT_PERIOD = { key: "28d" };

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function loadPeriod(storage = window.localStorage) {
  try {
    const saved = JSON.parse(storage.getItem(PERIOD_KEY) || "null");
    if (saved && PERIODS.includes(saved.key)) return { key: saved.key };
    if (saved?.key === "custom" && ISO_DAY.test(saved.start) && ISO_DAY.test(saved.end)) {
      return { key: "custom", start: saved.start, end: saved.end };
    }
  } catch {
    // an unreadable value falls back to the default
  }
  return { ...DEFAULT_PERIOD };
}

export function savePeriod(period, storage = window.localStorage) {
  storage.setItem(PERIOD_KEY, JSON.stringify(period));
}

/** Query parameters of GET /platform/executive (and the export body) for a period. */
export function periodQuery(period) {
  return period.key === "custom" ? { period: "custom", start: period.start, end: period.end } : { period: period.key };
}

export function periodLabel(period) {
  return period.key === "custom" ? `${period.start} – ${period.end}` : `Last ${parseInt(period.key, 10)} days`;
}
