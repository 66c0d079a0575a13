// Rendering of the executive roll-up: six domain tiles, the per-tenant cards of an expanded tile,
// and the tenant lists the cards link to (certificates by window, compliance controls).
// Every number is the API's; Unknown is grey with its reason, never green.

import { h, replaceChildren, svg } from "../dom.js";
import { deltaArrow, formatChange, formatDate, formatDateTime } from "../format.js";
import { statusBadge, statusClass, statusIcon, statusKey, statusLabel } from "../status.js";

// ---- small parts -------------------------------------------------------------------------------
// Every coloured thing carries its own word: a status colour is never shown without the label of
// the same verdict (status.js's labels and classes, status.css's colour tokens). `ro-status` (a
// badge) and `ro-text-<status>` (a judged value) name the roll-up's parts; the colour is --status.

/** The shared status badge (status.js), as the roll-up's `ro-status` with its test id. */
function badge(status, testid = "status") {
  const el = statusBadge(status, "ro-status");
  el.dataset.testid = testid;
  return el;
}

/** A value in its own verdict's colour, with that verdict's icon and word beside it. */
function judgedValue(display, status, { cls = "", testid } = {}) {
  const key = statusKey(status);
  return h(
    "span",
    { class: `ro-judged ${statusClass(key)} ${cls}`, "data-status": key },
    h("span", { class: `ro-value ro-text-${key}`, ...(testid ? { "data-testid": testid } : {}) }, display),
    " ",
    // a value that is itself "Unknown" says so already
    display === statusLabel(key) ? null : h("span", { class: `ro-mini ro-text-${key}`, "data-testid": "value-status" },
      h("span", { "aria-hidden": "true" }, statusIcon(key)), ` ${statusLabel(key)}`),
  );
}

/** Why a tile or card has its verdict: the metric that decides it, or its partial coverage. */
function verdictWhy(item) {
  const parts = [];
  // the headline deciding it needs no repeat: its value and word are shown already
  if (item.decided_by && item.decided_by.metric !== item.headline && statusKey(item.decided_by.status) !== "unknown") {
    parts.push(h("span", { "data-testid": "decided-by" }, `worst: ${item.decided_by.name} ${item.decided_by.display}`));
  }
  if (item.partial) parts.push(h("span", { class: "ro-partial", "data-testid": "partial" }, item.partial));
  return parts.length ? h("span", { class: "ro-why" }, parts) : null;
}

function tenantCounts(domain) {
  const counts = Object.entries(domain.tenant_status || {});
  if (!counts.length) return "";
  return `: ${counts.map(([s, n]) => `${n} ${statusLabel(s)}`).join(" · ")}`;
}

function metricUnit(domain, metricId) {
  return domain.metrics.find((m) => m.id === metricId)?.unit || "";
}

function delta(change, unit) {
  if (typeof change !== "number") return h("span", { class: "ro-delta muted", "data-testid": "delta" }, "no change data");
  return h(
    "span",
    { class: "ro-delta", "data-testid": "delta", title: "change vs the previous period" },
    `${deltaArrow(change)} ${formatChange(change, unit)}`,
  );
}

/** Inline SVG sparkline of {t, v} points (drawn with ≥ 2 numeric points). */
export function sparkline(series, label, { width = 120, height = 30 } = {}) {
  const points = (series || []).filter((p) => typeof p?.v === "number" && Number.isFinite(p.v));
  if (points.length < 2) return h("span", { class: "ro-spark-empty muted" }, "no trend yet");
  const values = points.map((p) => p.v);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = 3;
  const x = (i) => pad + (i * (width - 2 * pad)) / (points.length - 1);
  const y = (v) => (max === min ? height / 2 : pad + ((max - v) * (height - 2 * pad)) / (max - min));
  return svg(
    "svg",
    {
      class: "ro-spark",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": `${label}: ${points.length} points from ${formatDate(points[0].t)} to ${formatDate(points.at(-1).t)}`,
      "data-testid": "sparkline",
    },
    svg("polyline", {
      points: points.map((p, i) => `${x(i).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "),
      fill: "none",
      stroke: "currentColor",
      "stroke-width": 1.5,
    }),
  );
}

function snapshotStamp(computedAt, prefix = "Snapshot") {
  return h(
    "span",
    { class: "ro-stamp muted", "data-testid": "snapshot-at", title: computedAt || "no snapshot yet" },
    computedAt ? `${prefix} ${formatDateTime(computedAt)}` : "No snapshot yet",
  );
}

// ---- tiles ---------------------------------------------------------------------------------------

export function renderTiles(container, doc, { expanded, onToggle }) {
  const tiles = doc.domains.map((d) => {
    const isOpen = expanded === d.id;
    const unit = metricUnit(d, d.headline);
    const headline = d.metrics.find((m) => m.id === d.headline);
    const stamp = d.snapshot.newest
      ? `Snapshots ${formatDateTime(d.snapshot.oldest)} – ${formatDateTime(d.snapshot.newest)}`
      : "No snapshot yet";
    return h(
      "article",
      {
        class: `ro-tile ${statusClass(d.status)}${isOpen ? " is-open" : ""}`,
        "data-testid": "rollup-tile",
        "data-domain": d.id,
        "data-status": statusKey(d.status),
        title: stamp,
      },
      h(
        "button",
        {
          type: "button",
          class: "ro-tile-button",
          "aria-expanded": String(isOpen),
          "aria-controls": "rollup-expansion",
          "data-testid": "tile-toggle",
          onclick: () => onToggle(isOpen ? null : d.id),
        },
        h("span", { class: "ro-tile-head" }, h("h2", { class: "ro-tile-title" }, d.name), badge(d.status)),
        h("span", { class: "ro-tile-metric muted" }, headline ? headline.name : ""),
        judgedValue(d.display, d.headline_status, { cls: "ro-tile-value", testid: "tile-value" }),
        delta(d.delta, unit),
        sparkline(d.series, `${d.name} org trend`),
        verdictWhy(d),
        d.reason ? h("span", { class: "ro-reason", "data-testid": "tile-reason" }, d.reason) : null,
        h(
          "span",
          { class: "ro-tile-foot muted", "data-testid": "tile-tenants" },
          `${d.tenants.length} tenant${d.tenants.length === 1 ? "" : "s"}${tenantCounts(d)}`,
        ),
        h("span", { class: "ro-stamp muted", "data-testid": "snapshot-at" }, stamp),
      ),
    );
  });
  replaceChildren(container, tiles);
}

// ---- expansion: per-tenant cards --------------------------------------------------------------------

function metricName(domain, id) {
  return domain.metrics.find((x) => x.id === id)?.name || id;
}

function metricRows(domain, card) {
  return Object.entries(card.metrics).map(([id, m]) =>
    h(
      "li",
      { class: "ro-metric", "data-metric": id },
      h("span", { class: "ro-metric-name" }, m.label || metricName(domain, id)),
      judgedValue(m.display, m.status, { cls: "ro-metric-value" }),
      m.value === null && m.reason ? h("span", { class: "ro-reason" }, m.reason) : delta(m.delta, m.framework || id === "pass_rate" ? "percent" : metricUnit(domain, id)),
    ),
  );
}

function certCells(card) {
  const keys = ["within_7", "within_30", "within_90", "expired"];
  return h(
    "div",
    { class: "ro-cert-cells", role: "group", "aria-label": "Certificates by window" },
    keys.map((k) => {
      const m = card.metrics[k];
      if (!m) return null;
      const content = [h("span", { class: "ro-cert-label" }, m.label), judgedValue(m.display, m.status, { cls: "ro-cert-count" })];
      const attrs = { class: `ro-cert-cell${m.over_threshold ? " is-over" : ""}`, "data-testid": "cert-cell", "data-window": k };
      return m.over_threshold && m.href ? h("a", { ...attrs, href: m.href }, content) : h("span", attrs, content);
    }),
  );
}

function chevron(card) {
  if (!card.chevron) return null;
  return h(
    "a",
    {
      class: "ro-chevron",
      href: card.chevron.href,
      "data-testid": "compliance-chevron",
      title: `Pass rate dropped more than 5 points in the period (${card.chevron.frameworks.join(", ")})`,
    },
    h("span", { "aria-hidden": "true" }, "▼"),
    ` ${card.chevron.frameworks.join(", ")} dropped`,
  );
}

function tenantCard(domain, card) {
  const unit = metricUnit(domain, card.headline);
  return h(
    "li",
    {
      class: `ro-card ${statusClass(card.status)}`,
      "data-testid": "tenant-card",
      "data-tenant": card.tenant.id,
      "data-rank": card.rank,
      "data-status": statusKey(card.status),
    },
    h(
      "div",
      { class: "ro-card-head" },
      h("span", { class: "ro-rank muted" }, `#${card.rank}`),
      h("a", { class: "ro-card-tenant", href: card.href, "data-testid": "tenant-link" }, card.tenant.name),
      chevron(card),
      badge(card.status),
    ),
    h("span", { class: "ro-card-metric muted" }, metricName(domain, card.headline)),
    judgedValue(card.display, card.headline_status, { cls: "ro-card-value", testid: "card-value" }),
    delta(card.delta, unit),
    sparkline(card.series, `${card.tenant.name} ${domain.name} trend`),
    verdictWhy(card),
    domain.id === "certificates" ? certCells(card) : h("ul", { class: "ro-metrics" }, metricRows(domain, card)),
    snapshotStamp(card.snapshot.computed_at),
  );
}

export function renderExpansion(container, doc, domainId) {
  const domain = doc.domains.find((d) => d.id === domainId);
  if (!domain) {
    container.hidden = true;
    replaceChildren(container);
    return;
  }
  container.hidden = false;
  const orgRows = domain.metrics.map((m) =>
    h(
      "tr",
      { "data-metric": m.id },
      h("th", { scope: "row" }, m.name),
      h("td", {}, judgedValue(m.display, m.status)),
      h("td", {}, delta(m.delta, m.unit)),
      h("td", {}, `${m.tenants_known} of ${domain.tenants.length}`),
    ),
  );
  replaceChildren(
    container,
    h("h2", { id: "rollup-expansion-title" }, `${domain.name}: tenants, worst first`),
    h("p", { class: "muted" }, domain.description),
    h("p", { class: "ro-domain-verdict", "data-testid": "domain-verdict" }, "Org verdict: ", badge(domain.status, "domain-status"), " ", verdictWhy(domain)),
    h(
      "table",
      { class: "ro-table", "data-testid": "org-metrics" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Metric"), h("th", { scope: "col" }, "Org value"), h("th", { scope: "col" }, "Change"), h("th", { scope: "col" }, "Tenants with a value"))),
      h("tbody", {}, orgRows),
    ),
    domain.tenants.length
      ? h("ol", { class: "ro-cards", "data-testid": "tenant-cards" }, domain.tenants.map((c) => tenantCard(domain, c)))
      : h("p", { class: "notice" }, "No tenants in scope."),
  );
}

export function renderScope(container, doc) {
  const skipped = doc.scope.skipped || [];
  replaceChildren(
    container,
    h("span", { "data-testid": "scope-count" }, `${doc.scope.tenants.length} tenants in scope`),
    skipped.length
      ? h(
          "span",
          { class: "muted", "data-testid": "scope-skipped" },
          ` · skipped: ${skipped.map((s) => `${s.name} (${s.reason === "residency" ? `residency, ${s.home_region}` : s.reason})`).join(", ")}`,
        )
      : null,
    doc.period.note ? h("span", { class: "muted" }, ` · ${doc.period.note}`) : null,
  );
}

// ---- tenant lists ---------------------------------------------------------------------------------

export function renderCertificates(container, tenant, doc) {
  const rows = doc.certificates.map((c) =>
    h(
      "tr",
      { "data-testid": "cert-row", "data-cert": c.cert_id },
      h("td", {}, c.common_name),
      h("td", {}, formatDateTime(c.not_after)),
      h("td", {}, `${c.days_left} d`),
      h("td", {}, c.service || "—"),
      h("td", {}, c.issuer || "—"),
      h("td", { title: c.locator || null }, c.source || "api"),
    ),
  );
  const filter = `${doc.status}${doc.within ? `, within ${doc.within} days` : ""}`;
  replaceChildren(
    container,
    h("p", {}, h("a", { href: "#/" }, "← Back to the roll-up")),
    h("h2", {}, `Certificates of ${tenant} (${filter})`),
    rows.length
      ? h(
          "table",
          { class: "ro-table", "data-testid": "cert-list" },
          h("thead", {}, h("tr", {}, ["Common name", "Expires", "Left", "Service", "Issuer", "Source"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows),
        )
      : h("p", { class: "notice", "data-testid": "cert-list-empty" }, "No certificate matches this filter."),
  );
}

export function renderControls(container, tenant, doc, framework) {
  const rows = doc.controls.map((c) =>
    h(
      "tr",
      { "data-testid": "control-row", "data-control": `${c.framework}/${c.control_id}` },
      h("td", {}, c.framework),
      h("td", {}, c.control_id),
      h("td", {}, c.title),
      h("td", {}, c.passing ? "Passing" : "Failing"), // a control state, not a band: no band colour
      h("td", {}, c.latest_evidence ? `${c.latest_evidence.result} on ${formatDate(c.latest_evidence.at)}` : "no evidence"),
    ),
  );
  const rates = Object.entries(doc.frameworks || {}).map(([fw, f]) => `${fw}: ${f.pass_rate}% (${f.passing}/${f.controls})`);
  replaceChildren(
    container,
    h("p", {}, h("a", { href: "#/" }, "← Back to the roll-up")),
    h("h2", {}, `Compliance controls of ${tenant}${framework ? ` (${framework})` : ""}`),
    h("p", { class: "muted" }, rates.join(" · ") || "No framework configured."),
    rows.length
      ? h(
          "table",
          { class: "ro-table", "data-testid": "control-list" },
          h("thead", {}, h("tr", {}, ["Framework", "Control", "Title", "Status", "Latest evidence"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows),
        )
      : h("p", { class: "notice" }, "No controls."),
  );
}
