// The one API client of every page (docs/cockpit-api.md, docs/admin.md, docs/rollup.md): the only
// `fetch` of the app besides auth.js's Cognito token exchange and shell.js's config.json. Every
// error becomes an ApiError carrying the server's {code, message}; callers decide what to show
// (401 → the shell's sign-in, others → the alert region).

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details; // the server's `details` (e.g. the bad rows of a CSV import)
  }
}

let apiBase = "/api";
let getToken = () => null;

export function configureApi(options) {
  apiBase = String(options.apiBase || "/api").replace(/\/+$/, "");
  getToken = options.getToken;
}

/**
 * One request. `raw`: a PDF answer comes back as {response, blob}, a JSON one as {response, data}
 * (the board pack export answers either). `csv`: a text/csv body sent as it is (instead of `body`).
 */
async function request(path, { method = "GET", body, csv, auth = true, signal, raw = false } = {}) {
  const headers = { Accept: raw ? "application/pdf, application/json" : "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csv !== undefined) headers["Content-Type"] = "text/csv";
  if (auth) {
    const token = getToken();
    if (!token) throw new ApiError(401, "not_signed_in", "Please sign in.");
    headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(apiBase + path, {
      method,
      headers,
      body: csv !== undefined ? csv : body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", `Could not reach the cockpit API (${err.message}).`);
  }
  const type = response.headers.get("Content-Type") || "";
  if (raw && response.ok && type.startsWith("application/pdf")) return { response, blob: await response.blob() };
  const data = await readJson(response);
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data?.code || `http_${response.status}`,
      data?.message || response.statusText || "The request failed.",
      data?.details || null,
    );
  }
  return raw ? { response, data } : data;
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    if (!response.ok) return null;
    throw new ApiError(response.status, "bad_response", "The API returned a response that is not JSON.");
  }
}

const seg = encodeURIComponent;
const query = (params) => new URLSearchParams(params);

/** The read API (cockpit, drill-downs, KPI runs) and sign-in. */
export const api = {
  demoUsers: () => request("/auth/demo-users", { auth: false }),
  localLogin: (username) => request("/auth/local-login", { method: "POST", body: { username }, auth: false }),
  me: () => request("/me"),
  dashboard: (persona, tenant, period, signal) =>
    request(`/dashboards/${seg(persona)}?${query({ tenant, period })}`, { signal }),
  /** A drill-down or the score breakdown: `path` from DRILL_PATHS (render/drill.js). */
  drill: (path, params, signal) => request(`${path}?${query(params)}`, { signal }),
  run: (runId, tenant, signal) => request(`/runs/${seg(runId)}?${query({ tenant })}`, { signal }),
  /** A KPI monitoring view: `view` is runs | validation | lineage | sla-violations | dashboards/{audience}. */
  monitoring: (view, params, signal) => request(`/monitoring/${view}?${query(params)}`, { signal }),
  /** Restate a delivered run (admins): body {values: {period: number}, reason}. */
  correctRun: (runId, tenant, body) =>
    request(`/runs/${seg(runId)}/corrections?${query({ tenant })}`, { method: "POST", body }),
};

/** The admin API (docs/admin.md): every call is scoped to the tenant `t` (?tenant=). */
function adminRequest(method, path, tenant, body) {
  const sep = path.includes("?") ? "&" : "?";
  return request(`${path}${sep}tenant=${seg(tenant)}`, { method, body });
}

export const adminApi = {
  catalog: (t, params) => adminRequest("GET", `/catalog?${query(params)}`, t),
  kpi: (t, id) => adminRequest("GET", `/kpis/${seg(id)}`, t),
  newDraft: (t, id, body) => adminRequest("POST", `/kpis/${seg(id)}/versions`, t, body),
  action: (t, id, ver, action, body) =>
    adminRequest("POST", `/kpis/${seg(id)}/versions/${seg(ver)}/${action}`, t, body),
  lineage: (t, id) => adminRequest("GET", `/kpis/${seg(id)}/lineage`, t),
  impact: (t, id, change) => adminRequest("GET", `/kpis/${seg(id)}/impact?change=${seg(change)}`, t),
  approvals: (t, status) => adminRequest("GET", `/approvals${status ? `?status=${seg(status)}` : ""}`, t),
  decide: (t, id, decision, reason) =>
    adminRequest("POST", `/approvals/${seg(id)}/decision`, t, { decision, reason }),
  audit: (t) => adminRequest("GET", "/audit?limit=200", t),
  verify: (t) => adminRequest("GET", "/audit/verify", t),
  exportBundle: (t) => adminRequest("GET", "/audit/export", t),
  changeWindow: (t) => adminRequest("GET", "/admin/change-window", t),
  vendors: (t) => adminRequest("GET", "/admin/vendors", t),
  createVendor: (t, body, reason) => adminRequest("POST", `/admin/vendors?${query({ reason })}`, t, body),
  updateVendor: (t, id, body, reason) =>
    adminRequest("PUT", `/admin/vendors/${seg(id)}?${query({ reason })}`, t, body),
  deleteVendor: (t, id, reason) => adminRequest("DELETE", `/admin/vendors/${seg(id)}?${query({ reason })}`, t),
  importVendors: (t, csv, reason) =>
    request(`/admin/vendors/import?${query({ tenant: t, reason })}`, { method: "POST", csv }),
  deepLinks: (t) => adminRequest("GET", "/admin/integrations/deeplinks", t),
  saveDeepLinks: (t, body) => adminRequest("PUT", "/admin/integrations/deeplinks", t, body),
  // alert subscribers and the outbox (docs/alerts.md "Subscribers")
  alertRules: (t) => adminRequest("GET", "/alert-rules", t),
  alertRoutes: (t) => adminRequest("GET", "/alert-routes", t),
  subscribers: (t) => adminRequest("GET", "/alert-subscribers", t),
  createSubscriber: (t, body) => adminRequest("POST", "/alert-subscribers", t, body),
  updateSubscriber: (t, id, body) => adminRequest("PUT", `/alert-subscribers/${seg(id)}`, t, body),
  deleteSubscriber: (t, id, reason) =>
    adminRequest("DELETE", `/alert-subscribers/${seg(id)}?${query({ reason })}`, t),
  subscriberNotifications: (t, id, limit = 100) =>
    adminRequest("GET", `/alert-subscribers/${seg(id)}/notifications?${query({ limit })}`, t),
  notifications: (t, limit = 100) => adminRequest("GET", `/alert-notifications?${query({ limit })}`, t),
};

/** The executive roll-up, its board pack export and the inventory lists it links (docs/rollup.md). */
export const rollupApi = {
  executive: (params) => request(`/platform/executive?${query(params)}`),
  exportPdf: (body) => request("/platform/executive/exports", { method: "POST", body, raw: true }),
  exportStatus: (jobId) => request(`/platform/executive/exports/${seg(jobId)}`),
  certificates: (tenant, params) => request(`/inventory/certificates?${query({ tenant, ...params })}`),
  controls: (tenant, framework) =>
    request(`/inventory/controls?${query(framework ? { tenant, framework } : { tenant })}`),
  vendors: (tenant) => request(`/inventory/vendors?${query({ tenant })}`),
};
