// The admin API client (docs/admin.md). Same error shape as the read API client: ApiError(status, code).

import { ApiError } from "../api.js";
import { getToken } from "../auth.js";

let apiBase = "/api";

export function configureAdminApi(base) {
  apiBase = String(base || "/api").replace(/\/+$/, "");
}

async function request(method, path, tenant, body) {
  const token = getToken();
  if (!token) throw new ApiError(401, "not_signed_in", "Please sign in.");
  const sep = path.includes("?") ? "&" : "?";
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${apiBase}${path}${sep}tenant=${encodeURIComponent(tenant)}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network_error", `Could not reach the admin API (${err.message}).`);
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(response.status, data?.code || `http_${response.status}`, data?.message || "Request failed.");
  }
  return data;
}

const seg = encodeURIComponent;

export const admin = {
  catalog: (t, params) => request("GET", `/catalog?${new URLSearchParams(params)}`, t),
  kpi: (t, id) => request("GET", `/kpis/${seg(id)}`, t),
  newDraft: (t, id, body) => request("POST", `/kpis/${seg(id)}/versions`, t, body),
  action: (t, id, ver, action, body) => request("POST", `/kpis/${seg(id)}/versions/${seg(ver)}/${action}`, t, body),
  lineage: (t, id) => request("GET", `/kpis/${seg(id)}/lineage`, t),
  impact: (t, id, change) => request("GET", `/kpis/${seg(id)}/impact?change=${seg(change)}`, t),
  approvals: (t, status) => request("GET", `/approvals${status ? `?status=${seg(status)}` : ""}`, t),
  decide: (t, id, decision, reason) => request("POST", `/approvals/${seg(id)}/decision`, t, { decision, reason }),
  audit: (t) => request("GET", "/audit?limit=200", t),
  verify: (t) => request("GET", "/audit/verify", t),
  exportBundle: (t) => request("GET", "/audit/export", t),
  changeWindow: (t) => request("GET", "/admin/change-window", t),
};
