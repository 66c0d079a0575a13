// Vendor register (admin.html#/vendors): the tenant's vendors with tier, owner, review cadence and
// whether the review is overdue (the admin API says so: last review + cadence before today); admins
// add, edit, delete and import a CSV (every row checked first: a bad row lists its line, nothing is
// written). Every change goes through the admin API's write + audit path.

import { formatDate } from "../format.js";
import { h, replaceChildren } from "../dom.js";
import { statePill } from "../status.js";
import { adminApi as admin } from "../api.js";

const WRITERS = ["platform_admin", "tenant_admin"];
const STATUSES = ["active", "onboarding", "offboarded"];
const FIELDS = [
  ["vendor_id", "Vendor id", "text"],
  ["name", "Name", "text"],
  ["tier", "Tier", "tier"],
  ["owner", "Owner", "text"],
  ["last_review", "Last review", "date"],
  ["review_interval_days", "Review cadence (days)", "number"],
  ["status", "Status", "status"],
];
const TEMPLATE = "vendor_id,name,tier,owner,last_review,review_interval_days,status\n";

function review(v) {
  if (v.status === "offboarded") return statePill("skipped", { text: "offboarded", testid: "review-state" });
  return v.out_of_review
    ? statePill("fail", { text: v.review_due ? `overdue since ${formatDate(v.review_due)}` : "never reviewed", testid: "review-state" })
    : statePill("ok", { text: `due ${formatDate(v.review_due)}`, testid: "review-state" });
}

function input([key, label, kind], value) {
  let el;
  if (kind === "tier") el = h("select", { name: key }, [1, 2, 3].map((t) => h("option", { value: t, selected: Number(value) === t }, `Tier ${t}`)));
  else if (kind === "status") el = h("select", { name: key }, STATUSES.map((s) => h("option", { value: s, selected: value === s }, s)));
  else el = h("input", { name: key, type: kind, value: value ?? "", required: key === "vendor_id" || key === "name",
    min: kind === "number" ? 30 : null, max: kind === "number" ? 1095 : null, readonly: key === "vendor_id" && value ? true : null });
  return h("label", {}, label, el);
}

function vendorForm(view, vendor, done) {
  const v = vendor || { tier: 1, review_interval_days: 365, status: "active" };
  const form = h("form", { class: "admin-search", "data-testid": "vendor-form", onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { ...data, tier: Number(data.tier), review_interval_days: Number(data.review_interval_days) || 365,
      last_review: data.last_review || null };
    try {
      if (vendor) await admin.updateVendor(view.tenant, vendor.vendor_id, body, "edited in the admin console");
      else await admin.createVendor(view.tenant, body, "added in the admin console");
      await done(`${body.name}: saved`);
    } catch (err) { view.showError(err); }
  } }, FIELDS.map((f) => input(f, v[f[0]])), h("button", { type: "submit", class: "primary" }, vendor ? "Save" : "Add vendor"));
  return form;
}

function importPanel(view, done) {
  const text = h("textarea", { rows: 4, cols: 70, "data-testid": "vendor-csv", placeholder: TEMPLATE });
  const file = h("input", { type: "file", accept: ".csv,text/csv", "data-testid": "vendor-csv-file",
    onchange: async () => { if (file.files[0]) text.value = await file.files[0].text(); } });
  const problems = h("div", { "data-testid": "import-problems" });
  const run = h("button", { class: "primary", "data-testid": "vendor-import", onclick: async () => {
    replaceChildren(problems);
    try {
      const out = await admin.importVendors(view.tenant, text.value, "CSV import in the admin console");
      await done(`Imported ${out.imported} vendors (${out.created} new, ${out.updated} updated)`);
    } catch (err) {
      const rows = err.details?.rows || [];
      if (!rows.length) return view.showError(err);
      replaceChildren(problems, h("p", { class: "notice" }, err.message), h("table", { class: "admin-table", "data-testid": "import-errors" },
        h("thead", {}, h("tr", {}, ["Line", "Field", "Code", "Problem"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.row), h("td", {}, r.field || "—"), h("td", { class: "mono" }, r.code), h("td", {}, r.message))))));
    }
  } }, "Import CSV");
  return h("section", { class: "admin-panel", "data-testid": "vendor-import-panel" }, h("h2", {}, "Import a vendor register (CSV)"),
    h("p", {}, "Header: ", h("code", {}, TEMPLATE.trim()), ". Every row is checked first; if any is wrong, nothing is imported."),
    h("div", { class: "admin-actions" }, file), text, h("div", { class: "admin-actions" }, run), problems);
}

export async function renderVendors(view, message = "", editing = null) {
  const data = await admin.vendors(view.tenant);
  const canWrite = WRITERS.includes(view.role);
  const again = (msg, edit = null) => renderVendors(view, msg, edit);
  const rows = data.vendors.map((v) => h("tr", { "data-testid": "vendor-row", "data-vendor": v.vendor_id },
    h("td", {}, v.name, h("div", { class: "mono" }, v.vendor_id)), h("td", {}, `Tier ${v.tier}`), h("td", {}, v.owner || "—"),
    h("td", {}, v.last_review ? formatDate(v.last_review) : "—"), h("td", {}, `${v.review_interval_days} d`), h("td", {}, v.status),
    h("td", {}, review(v)),
    h("td", {}, canWrite ? h("div", { class: "admin-actions" },
      h("button", { "data-testid": "vendor-edit", onclick: () => again("", v.vendor_id).catch(view.showError) }, "Edit"),
      h("button", { "data-testid": "vendor-delete", onclick: async () => {
        try { await admin.deleteVendor(view.tenant, v.vendor_id, "removed in the admin console"); await again(`${v.name}: deleted`); }
        catch (err) { view.showError(err); }
      } }, "Delete")) : "")));
  view.say(message || `${data.tier1_out_of_review} tier-1 vendors out of review on ${formatDate(data.as_of)}`);
  const edited = editing && data.vendors.find((v) => v.vendor_id === editing);
  replaceChildren(view.main,
    h("section", { class: "admin-panel" }, h("h1", {}, "Vendor register"),
      h("p", { "data-testid": "vendor-summary" }, `${data.vendors.length} vendors; `, h("strong", {}, `${data.tier1_out_of_review} tier-1 out of review`),
        " (last review + review cadence before today)."),
      h("table", { class: "admin-table", "data-testid": "vendor-table" },
        h("thead", {}, h("tr", {}, ["Vendor", "Tier", "Owner", "Last review", "Cadence", "Status", "Review", ""].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows))),
    canWrite ? h("section", { class: "admin-panel" }, h("h2", {}, edited ? `Edit ${edited.name}` : "Add a vendor"), vendorForm(view, edited, again)) : null,
    canWrite ? importPanel(view, again) : null);
}
