// Hash routes: #/{tenant}/{persona}?period=7d and drill-downs
// #/{tenant}/{persona}/drill/{kind}/{id}?period=7d — shareable, and back/forward just work
// because every navigation is a hash change that the app re-reads.

export const PERIODS = ["7d", "28d", "90d", "365d"];
export const DEFAULT_PERIOD = PERIODS[0];

export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [tenant = "", persona = "", drill = "", kind = "", ...rest] = path
    .split("/")
    .map((p) => safeDecode(p));
  const period = new URLSearchParams(query).get("period") || "";
  const drillTo = drill === "drill" && kind ? { kind, id: rest.join("/") } : null;
  return { tenant, persona, period, drill: drillTo };
}

function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return "";
  }
}

export function buildHash({ tenant, persona, period, drill = null }) {
  const base = `#/${encodeURIComponent(tenant)}/${encodeURIComponent(persona)}`;
  const sub = drill?.kind
    ? `/drill/${encodeURIComponent(drill.kind)}${drill.id ? `/${encodeURIComponent(drill.id)}` : ""}`
    : "";
  return `${base}${sub}?period=${encodeURIComponent(period)}`;
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
 * the role (or none asked for) → the role's home dashboard; bad period → default.
 */
export function resolveRoute(route, me) {
  const tenants = me.tenants || [];
  const tenant = tenants.find((t) => t.id === route.tenant) || tenants[0];
  if (!tenant) return null;
  const personas = tenant.personas || [];
  let persona = route.persona;
  if (!personas.includes(persona)) persona = homePersona(tenant);
  const period = PERIODS.includes(route.period) ? route.period : DEFAULT_PERIOD;
  // a drill-down belongs to the dashboard it was opened from; a forbidden persona drops it
  const drill = persona === route.persona ? route.drill || null : null;
  return { tenant: tenant.id, persona, period, drill, tenantInfo: tenant };
}

/** The dashboard a member lands on: the one /me names as the role's home (a head of ops lands on
 * the Ops dashboard, not on the first one the role may open). */
export function homePersona(tenant) {
  const personas = tenant.personas || [];
  if (personas.includes(tenant.home)) return tenant.home;
  return personas[0] || "";
}
