// Admin views: catalog (search + facets), KPI detail (tabs), change-request queue, audit.

import { formatDateTime } from "../format.js";
import { h, replaceChildren } from "../dom.js";
import { stateClass } from "../status.js";
import { adminApi as admin } from "../api.js";

const WRITERS = ["platform_admin", "tenant_admin"];
const FACETS = ["pack", "layer", "owner", "status", "criticality"];

function badge(status) {
  return h("span", { class: `lifecycle lifecycle-${status} ${stateClass(status)}`, "data-testid": "lifecycle" }, status);
}

function table(headers, rows, testid) {
  return h("table", { class: "admin-table", "data-testid": testid },
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows));
}

// ---------------------------------------------------------------- catalog

export async function renderCatalog(view, params = {}) {
  const q = h("input", { type: "search", id: "catalog-q", value: params.q || "", placeholder: "purpose, formula, sources, rules",
    "data-testid": "catalog-search" });
  const data = await admin.catalog(view.tenant, { ...params, limit: 100 });
  const filters = FACETS.map((f) => h("label", {}, f, h("select", { "data-facet": f },
    h("option", { value: "" }, "any"),
    Object.entries(data.facets[f] || {}).map(([k, n]) => h("option", { value: k, selected: params[f] === k }, `${k || "—"} (${n})`)))));
  const search = () => {
    const next = { q: q.value };
    for (const s of document.querySelectorAll("[data-facet]")) if (s.value) next[s.dataset.facet] = s.value;
    renderCatalog(view, next).catch(view.showError);
  };
  const form = h("form", { class: "admin-search", onsubmit: (e) => { e.preventDefault(); search(); } },
    h("label", {}, "Search", q), filters, h("button", { type: "submit" }, "Search"));
  const rows = data.items.map((e) => h("tr", { "data-testid": "catalog-row" },
    h("td", {}, h("a", { href: `#/kpi/${encodeURIComponent(e.kpi_id)}` }, e.name), h("div", { class: "mono" }, e.kpi_id)),
    h("td", {}, e.pack), h("td", {}, e.layer), h("td", {}, e.owner), h("td", {}, badge(e.status)),
    h("td", {}, e.version), h("td", {}, e.criticality), h("td", {}, e.paused ? h("span", { class: "maintenance-badge" }, "paused") : "")));
  view.say(`${data.total} KPIs match${params.q ? ` "${params.q}"` : ""}`);
  replaceChildren(view.main, h("section", { class: "admin-panel" }, h("h1", {}, "KPI catalog"), form,
    table(["KPI", "Pack", "Layer", "Owner", "Status", "Version", "Criticality", ""], rows, "catalog-table")));
}

// ---------------------------------------------------------------- KPI detail

const TABS = ["Overview", "Versions", "Schedule/SLA", "Validation", "Lineage", "Controls"];

export async function renderKpi(view, kpiId, tab = "Overview") {
  const kpi = await admin.kpi(view.tenant, kpiId);
  const tabs = h("div", { class: "tabs", role: "tablist" }, TABS.map((t) => h("button", { role: "tab", "aria-selected": String(t === tab),
    "data-testid": `tab-${t.toLowerCase().replace(/\W+/g, "-")}`, onclick: () => renderKpi(view, kpiId, t).catch(view.showError) }, t)));
  const body = await tabBody(view, kpi, tab);
  replaceChildren(view.main, h("section", { class: "admin-panel", "data-testid": "kpi-detail" },
    h("h1", {}, kpi.name || kpi.kpi_id, " ", badge(kpi.status || currentStatus(kpi))), tabs, body));
}

function currentStatus(kpi) {
  const live = kpi.envs?.prod?.active;
  return live ? kpi.versions[live].status : "draft";
}

function latestContract(kpi) {
  if (kpi.contracts) return Object.values(kpi.contracts)[0];
  const ver = kpi.envs?.prod?.active || Object.keys(kpi.versions).sort().at(-1);
  return kpi.versions[ver].contract;
}

function act(view, kpi, ver, action, body, label) {
  return h("button", { "data-testid": `action-${action}`, onclick: async () => {
    try {
      const out = await admin.action(view.tenant, kpi.kpi_id, ver, action, { ...body, expected_revision: kpi.revision ?? undefined });
      view.say(out.request_id ? `${label}: change request ${out.request_id} submitted` : `${label}: done`);
      await renderKpi(view, kpi.kpi_id, "Versions");
    } catch (err) { view.showError(err); }
  } }, label);
}

async function tabBody(view, kpi, tab) {
  const c = latestContract(kpi);
  const canWrite = WRITERS.includes(view.role);
  if (tab === "Overview") {
    return h("dl", {}, h("dt", {}, "Purpose"), h("dd", {}, kpi.purpose || "—"), h("dt", {}, "Owner"), h("dd", {}, kpi.owner || "—"),
      h("dt", {}, "Criticality"), h("dd", {}, kpi.criticality || "—"), h("dt", {}, "Formula"), h("dd", { class: "mono" }, c.formula.builtin || c.formula.sql),
      h("dt", {}, "Sources"), h("dd", {}, c.sources.map((s) => `${s.source_type}:${s.kind}`).join(", ")));
  }
  if (tab === "Versions") {
    if (kpi.owner_kind === "platform") {
      return h("div", {}, h("p", {}, "Built-in platform contract; no tenant versions yet."),
        canWrite ? h("div", { class: "admin-actions" }, h("button", { "data-testid": "action-new-draft", onclick: async () => {
          try { await admin.newDraft(view.tenant, kpi.kpi_id, {}); await renderKpi(view, kpi.kpi_id, "Versions"); } catch (err) { view.showError(err); }
        } }, "New draft from this version")) : null);
    }
    const rows = Object.entries(kpi.versions).map(([ver, m]) => h("tr", { "data-testid": "version-row" },
      h("td", {}, ver), h("td", {}, badge(m.status)), h("td", {}, m.author), h("td", {}, (m.envs_reached || []).join(" → ")),
      h("td", {}, m.pending_request ? `waiting: ${m.pending_request}` : ""),
      h("td", {}, canWrite ? h("div", { class: "admin-actions" },
        m.status === "draft" ? act(view, kpi, ver, "submit", { reason: "ready for review" }, "Submit for approval") : null,
        ["approved", "active"].includes(m.status) ? ["dev", "stg", "prod"].filter((e) => kpi.envs[e].active !== ver)
          .map((env) => act(view, kpi, ver, "publish", { env }, `Publish to ${env}`)) : null,
        ["dev", "stg", "prod"].filter((e) => kpi.envs[e].active === ver && kpi.envs[e].history.length)
          .map((env) => act(view, kpi, ver, "rollback", { env, reason: "rollback from console" }, `Roll back ${env}`))) : "")));
    return h("div", {}, table(["Version", "Status", "Author", "Reached", "", "Actions"], rows, "versions-table"),
      h("p", {}, `Active: dev ${kpi.envs.dev.active || "—"} · stg ${kpi.envs.stg.active || "—"} · prod ${kpi.envs.prod.active || "—"}`));
  }
  if (tab === "Schedule/SLA") {
    return h("dl", {}, h("dt", {}, "Schedule"), h("dd", {}, `${c.schedule.schedule_class} (${c.schedule.cron})`),
      h("dt", {}, "SLA"), h("dd", {}, `max ${c.sla.max_duration_s} s${c.sla.finish_by ? `, finish by ${c.sla.finish_by} UTC` : ""}`));
  }
  if (tab === "Validation") {
    const rows = [...c.pre_rules.map((r) => ["pre", r]), ...c.post_rules.map((r) => ["post", r])]
      .map(([stage, r]) => h("tr", {}, h("td", {}, stage), h("td", {}, r.id), h("td", {}, r.type), h("td", {}, r.severity), h("td", { class: "mono" }, JSON.stringify(r.params))));
    return table(["Stage", "Rule", "Type", "Severity", "Params"], rows, "rules-table");
  }
  if (tab === "Lineage") {
    const [lin, impact] = await Promise.all([admin.lineage(view.tenant, kpi.kpi_id), admin.impact(view.tenant, kpi.kpi_id, "pause")]);
    return h("div", { "data-testid": "lineage" }, h("h2", {}, "Upstream"), h("ul", {}, lin.upstream.map((n) => h("li", {}, n))),
      h("h2", {}, "Downstream"), h("ul", {}, lin.downstream.map((n) => h("li", {}, n))),
      h("h2", {}, "If paused"), h("p", {}, impact.notes.join(" · ")));
  }
  const pauses = (kpi.pauses || []).map((p) => h("li", {}, h("span", { class: "maintenance-badge" }, "paused"), ` ${p.scope}: ${p.reason}${p.eta ? ` (ETA ${p.eta})` : ""}`));
  const ver = kpi.envs?.prod?.active || kpi.version;
  return h("div", {}, h("ul", { "data-testid": "pauses" }, pauses),
    canWrite ? h("div", { class: "admin-actions" },
      act(view, kpi, ver, "pause", { reason: "maintenance from console" }, "Pause"),
      pauses.length ? act(view, kpi, ver, "resume", { reason: "maintenance done" }, "Resume") : null) : null);
}

// ---------------------------------------------------------------- change requests

export async function renderApprovals(view, message = "") {
  const { requests } = await admin.approvals(view.tenant);
  const canApprove = WRITERS.includes(view.role);
  const decide = (r, decision) => h("button", { "data-testid": `decide-${decision}`, onclick: async () => {
    try {
      const out = await admin.decide(view.tenant, r.request_id, decision, `${decision} from console`);
      await renderApprovals(view, `${r.request_id}: ${out.status} (${out.approvals}/${out.required_approvals})`);
    } catch (err) { view.showError(err); }
  } }, decision === "approve" ? "Approve" : "Reject");
  const rows = requests.map((r) => h("tr", { "data-testid": "request-row" },
    h("td", { class: "mono" }, r.request_id), h("td", {}, `${r.kind} ${r.kpi_id}@${r.version}${r.env ? ` → ${r.env}` : ""}`),
    h("td", {}, r.requested_by), h("td", {}, `${(r.approvals || []).length}/${r.required_approvals}`), h("td", {}, r.status),
    h("td", {}, formatDateTime(r.submitted_at)),
    h("td", {}, canApprove && r.status === "pending" ? h("div", { class: "admin-actions" }, decide(r, "approve"), decide(r, "reject")) : "")));
  view.say(message || `${requests.filter((r) => r.status === "pending").length} pending change requests`);
  replaceChildren(view.main, h("section", { class: "admin-panel" }, h("h1", {}, "Change requests"),
    table(["Request", "Change", "Requested by", "Approvals", "Status", "Submitted", ""], rows, "approvals-table")));
}

// ---------------------------------------------------------------- audit

export async function renderAudit(view) {
  const result = h("p", { "data-testid": "verify-result" }, "Not verified yet.");
  const verify = h("button", { class: "primary", "data-testid": "verify-chain", onclick: async () => {
    try {
      const v = await admin.verify(view.tenant);
      replaceChildren(result, v.ok
        ? h("span", { class: `verify-ok ${stateClass("ok")}` }, `Chain intact: ${v.events} events, ` + (v.signature_valid ? "head signed by KMS (signature valid)." : "not signed yet.")
          + (v.pending_events ? ` ${v.pending_events} pending sealing${v.sealing_overdue ? " (overdue: check the sealer)" : ""}.` : ""))
        : h("span", { class: `verify-bad ${stateClass("failed")}` }, `Chain broken at ${v.broken_at ?? "?"}: ${v.problem}`));
    } catch (err) { view.showError(err); }
  } }, "Verify chain and signature");
  const exportButton = h("button", { "data-testid": "export-bundle", onclick: async () => {
    try {
      const bundle = await admin.exportBundle(view.tenant);
      const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: "application/json" });
      const a = h("a", { href: URL.createObjectURL(blob), download: `evidence-${view.tenant}.json` });
      a.click();
      view.say(`Evidence bundle: manifest SHA-256 ${bundle.manifest_sha256}`);
    } catch (err) { view.showError(err); }
  } }, "Export evidence bundle");
  const { events } = await admin.audit(view.tenant);
  const rows = events.map((e) => h("tr", { "data-testid": "audit-row" }, h("td", {}, e.pending ? "pending" : e.seq), h("td", {}, formatDateTime(e.at)),
    h("td", {}, e.actor), h("td", {}, e.role), h("td", {}, e.action), h("td", {}, e.target), h("td", {}, e.reason),
    h("td", {}, e.approver), h("td", { class: "mono" }, e.pending ? "awaiting seal" : e.hash.slice(0, 12))));
  replaceChildren(view.main, h("section", { class: "admin-panel" }, h("h1", {}, "Audit trail"),
    h("div", { class: "admin-actions" }, verify, exportButton), result,
    table(["#", "When", "Actor", "Role", "Action", "Target", "Reason", "Approver", "Hash"], rows, "audit-table")));
}
