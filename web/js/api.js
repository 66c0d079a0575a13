// The read API client (docs/cockpit-api.md). Every error becomes an ApiError carrying the
// server's {code, message}; callers decide what to show (401 → login, others → alert region).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

let apiBase = "/api";
let getToken = () => null;

export function configureApi(options) {
  apiBase = String(options.apiBase || "/api").replace(/\/+$/, "");
  getToken = options.getToken;
}

async function request(path, { method = "GET", body, auth = true, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
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
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", `Could not reach the cockpit API (${err.message}).`);
  }
  const data = await readJson(response);
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data?.code || `http_${response.status}`,
      data?.message || response.statusText || "The request failed.",
    );
  }
  return data;
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

export const api = {
  demoUsers: () => request("/auth/demo-users", { auth: false }),
  localLogin: (username) => request("/auth/local-login", { method: "POST", body: { username }, auth: false }),
  me: () => request("/me"),
  dashboard: (persona, tenant, period, signal) =>
    request(`/dashboards/${seg(persona)}?${new URLSearchParams({ tenant, period })}`, { signal }),
  /** A drill-down or the score breakdown: `path` from DRILL_PATHS (render/drill.js). */
  drill: (path, params, signal) => request(`${path}?${new URLSearchParams(params)}`, { signal }),
  run: (runId, tenant, signal) =>
    request(`/runs/${seg(runId)}?${new URLSearchParams({ tenant })}`, { signal }),
  /** A KPI monitoring view: `view` is runs | validation | lineage | sla-violations | dashboards/{audience}. */
  monitoring: (view, params, signal) =>
    request(`/monitoring/${view}?${new URLSearchParams(params)}`, { signal }),
  /** Restate a delivered run (admins): body {values: {period: number}, reason}. */
  correctRun: (runId, tenant, body) =>
    request(`/runs/${seg(runId)}/corrections?${new URLSearchParams({ tenant })}`, { method: "POST", body }),
};
