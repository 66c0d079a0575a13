// The roll-up page's API calls. Same contract as web/js/api.js (errors carry the server's
// {code, message} as an ApiError); the bearer token comes from the shared session (auth.js).

import { ApiError } from "../api.js";
import { getToken } from "../auth.js";

let apiBase = "/api";

export function configureClient(options) {
  apiBase = String(options.apiBase || "/api").replace(/\/+$/, "");
}

async function request(path, { method = "GET", body, auth = true, raw = false } = {}) {
  const headers = { Accept: raw ? "application/pdf, application/json" : "application/json" };
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
    });
  } catch (err) {
    throw new ApiError(0, "network_error", `Could not reach the cockpit API (${err.message}).`);
  }
  const type = response.headers.get("Content-Type") || "";
  if (raw && response.ok && type.startsWith("application/pdf")) return { response, blob: await response.blob() };
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    if (response.ok) throw new ApiError(response.status, "bad_response", "The API returned a response that is not JSON.");
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data?.code || `http_${response.status}`,
      data?.message || response.statusText || "The request failed.",
    );
  }
  return raw ? { response, data } : data;
}

const seg = encodeURIComponent;

export const rollupApi = {
  demoUsers: () => request("/auth/demo-users", { auth: false }),
  executive: (query) => request(`/platform/executive?${new URLSearchParams(query)}`),
  exportPdf: (body) => request("/platform/executive/exports", { method: "POST", body, raw: true }),
  exportStatus: (jobId) => request(`/platform/executive/exports/${seg(jobId)}`),
  certificates: (tenant, query) =>
    request(`/inventory/certificates?${new URLSearchParams({ tenant, ...query })}`),
  controls: (tenant, framework) =>
    request(`/inventory/controls?${new URLSearchParams(framework ? { tenant, framework } : { tenant })}`),
  vendors: (tenant) => request(`/inventory/vendors?${new URLSearchParams({ tenant })}`),
};
