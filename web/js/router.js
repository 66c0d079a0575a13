// Hash routes: #/{tenant}/{persona}?period=7d — shareable, and back/forward just work
// because every navigation is a hash change that the app re-reads.

export const PERIODS = ["7d", "28d", "90d", "365d"];
export const DEFAULT_PERIOD = PERIODS[0];

export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [tenant = "", persona = ""] = path.split("/").map((p) => safeDecode(p));
  const period = new URLSearchParams(query).get("period") || "";
  return { tenant, persona, period };
}

function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return "";
  }
}

export function buildHash({ tenant, persona, period }) {
  return `#/${encodeURIComponent(tenant)}/${encodeURIComponent(persona)}?period=${encodeURIComponent(period)}`;
}

/** Push a new history entry (or replace the current one) and let the hashchange listener render. */
export function navigate(route, { replace = false } = {}) {
  const hash = buildHash(route);
  if (hash === window.location.hash) return false;
  if (replace) {
    window.history.replaceState(null, "", hash);
    return false; // replaceState fires no hashchange; the caller renders directly
  }
  window.location.hash = hash;
  return true;
}

export function onRouteChange(callback) {
  window.addEventListener("hashchange", () => callback(parseHash()));
}

/**
 * Resolve a parsed route against /me: unknown tenant → first tenant; persona not allowed for
 * the role → the role's own persona if allowed, else the first allowed; bad period → default.
 */
export function resolveRoute(route, me) {
  const tenants = me.tenants || [];
  const tenant = tenants.find((t) => t.id === route.tenant) || tenants[0];
  if (!tenant) return null;
  const personas = tenant.personas || [];
  let persona = route.persona;
  if (!personas.includes(persona)) persona = personas.includes(tenant.role) ? tenant.role : personas[0] || "";
  const period = PERIODS.includes(route.period) ? route.period : DEFAULT_PERIOD;
  return { tenant: tenant.id, persona, period, tenantInfo: tenant };
}
