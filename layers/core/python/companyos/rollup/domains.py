"""The six roll-up domains, assembled from end-of-day snapshots: pure functions, no I/O.

Per domain: the org value of each metric (with its delta against the previous period and an org
sparkline), one card per tenant sorted worst-first, each card with its own values, sparkline, delta,
snapshot timestamp and deep links. Unknown stays Unknown, with the reason, and sorts after every
known card (it is never green and never "best").
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal
from urllib.parse import quote, urlencode

from companyos.model import kpis, normalise, scoring
from companyos.rollup import inventory as inv
from companyos.store.repos import Tenant

Agg = Literal["sum", "mean", "max"]
COMPLIANCE_DROP_POINTS = 5.0  # a pass-rate drop larger than this in the period gets a red chevron

# ------------------------------------------------------------------ period


@dataclass(frozen=True)
class Period:
    """The requested period. `window` is the snapshot period the values come from (a custom range is
    answered by the smallest standard window that covers it, ending on its last day)."""

    key: str  # 7d / 28d / 90d / 365d / custom
    window: str
    days: int
    start: date
    end: date  # the end-of-day snapshot's day ("as of")

    @property
    def previous_end(self) -> date:
        return self.start - timedelta(days=1)

    def points(self) -> list[date]:
        """Sparkline days: daily up to 28 days, weekly beyond (like the KPI series)."""
        step = 1 if self.days <= 28 else 7
        return [self.end - timedelta(days=i * step) for i in range(self.days // step - 1, -1, -1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "window": self.window,
            "days": self.days,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class TenantData:
    """What the roll-up read for one tenant: its KPI snapshot and inventory posture (either may be
    missing), with the timestamps they were computed at."""

    tenant: Tenant
    snapshot: Mapping[str, Any] | None = None
    snapshot_at: datetime | None = None
    snapshot_day: str | None = None
    posture: Mapping[str, Any] | None = None
    posture_at: datetime | None = None


@dataclass(frozen=True)
class MetricSpec:
    id: str
    name: str
    unit: str
    better: Literal["higher", "lower"]
    org: Agg
    kpis: tuple[str, ...] = ()  # candidate KPI ids in the snapshot (first present wins)


@dataclass(frozen=True)
class DomainSpec:
    id: str
    name: str
    persona: str  # the tenant dashboard a card deep-links to
    metrics: tuple[MetricSpec, ...] = ()
    headline: str = ""
    description: str = ""
    source: Literal["snapshot", "inventory"] = "snapshot"
    extra: dict[str, Any] = field(default_factory=dict)


DOMAINS: tuple[DomainSpec, ...] = (
    DomainSpec(
        "dora",
        "DORA delivery",
        "cto",
        (
            MetricSpec(
                "deployment_frequency",
                "Deploy frequency",
                "per_day",
                "higher",
                "sum",
                ("deployment_frequency",),
            ),
            MetricSpec(
                "lead_time_for_changes", "Lead time", "hours", "lower", "mean", ("lead_time_for_changes",)
            ),
            MetricSpec(
                "change_failure_rate",
                "Change failure rate",
                "percent",
                "lower",
                "mean",
                ("change_failure_rate",),
            ),
            MetricSpec("mttr", "MTTR", "minutes", "lower", "mean", ("mttr",)),
        ),
        headline="change_failure_rate",
        description="The four DORA keys from each tenant's end-of-day KPI snapshot.",
    ),
    DomainSpec(
        "incidents",
        "Incidents",
        "ops",
        (
            MetricSpec(
                "open", "Open incidents", "count", "lower", "sum", ("open_incidents", "incidents_open")
            ),
            MetricSpec("mtta", "MTTA", "minutes", "lower", "mean", ("mtta",)),
            MetricSpec("mttr", "MTTR", "minutes", "lower", "mean", ("mttr",)),
            MetricSpec(
                "postmortem_coverage",
                "Postmortem coverage",
                "percent",
                "higher",
                "mean",
                ("postmortem_coverage",),
            ),
        ),
        headline="mttr",
        description="Open incidents, time to acknowledge and restore, postmortem coverage.",
    ),
    DomainSpec(
        "slos",
        "SLOs",
        "ops",
        (
            MetricSpec(
                "objectives_in_budget",
                "Objectives in budget",
                "percent",
                "higher",
                "mean",
                ("slo_attainment",),
            ),
            MetricSpec(
                "fastest_burn", "Fastest burn", "ratio_x", "lower", "max", ("error_budget_burn_rate",)
            ),
        ),
        headline="objectives_in_budget",
        description="Share of SLOs meeting their objective; the fastest error-budget burn rate.",
    ),
    DomainSpec(
        "compliance",
        "Compliance",
        "ciso",
        headline="pass_rate",
        description="Control pass rate per framework (controls and evidence managed through the API).",
        source="inventory",
    ),
    DomainSpec(
        "certificates",
        "Certificate health",
        "ops",
        headline="within_30",
        description="Certificates expiring within 7 / 30 / 90 days (certificate inventory).",
        source="inventory",
    ),
    DomainSpec(
        "vendors",
        "Vendor risk",
        "ciso",
        headline="tier1_out_of_review",
        description="Tier-1 vendors whose review is overdue (vendor inventory).",
        source="inventory",
    ),
)
DOMAIN_IDS = tuple(d.id for d in DOMAINS)

# ------------------------------------------------------------------ formatting and status


_FORMATS = {
    "percent": "{:.1f}%",
    "count": "{:.0f}",
    "per_day": "{:.1f}/day",
    "hours": "{:.1f} h",
    "minutes": "{:.0f} min",
    "ratio_x": "{:.1f}x",
}


def display(value: float | None, unit: str) -> str:
    if value is None:
        return "Unknown"
    return _FORMATS.get(unit, "{:.2f}").format(value)


def _kpi_status(kpi_ids: Sequence[str], value: float | None) -> tuple[str, float | None]:
    """Status band and 0-100 score of a value against the KPI dictionary's target and critical."""
    dictionary = kpis.load_dictionary()
    for kpi_id in kpi_ids:
        if kpi_id in dictionary.ids():
            score = normalise.normalise(dictionary.get(kpi_id), value)
            return scoring.band(score).value, score
    return "unknown", None


def compliance_status(rate: float | None) -> str:
    if rate is None:
        return "unknown"
    for floor, status in ((98, "excellent"), (95, "healthy"), (90, "attention"), (80, "warning")):
        if rate >= floor:
            return status
    return "critical"


def certificate_status(counts: Mapping[str, int]) -> str:
    if counts["expired"] or counts["within_7"] > inv.CERT_THRESHOLDS[7]:
        return "critical"
    if counts["within_30"] > inv.CERT_THRESHOLDS[30]:
        return "warning"
    if counts["within_90"] > inv.CERT_THRESHOLDS[90]:
        return "attention"
    return "healthy"


def vendor_status(out_of_review: int) -> str:
    return "healthy" if out_of_review == 0 else "warning" if out_of_review == 1 else "critical"


# ------------------------------------------------------------------ cells (one metric of one tenant)


def _cell(
    value: float | None,
    previous: float | None,
    series: list[dict[str, Any]],
    unit: str,
    status: str,
    reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "value": value,
        "display": display(value, unit),
        "previous": previous,
        "delta": round(value - previous, 4) if value is not None and previous is not None else None,
        "series": series,
        "status": status if value is not None else "unknown",
        "reason": reason if value is None else None,
        **extra,
    }


def _in_period(series: Iterable[Mapping[str, Any]], period: Period) -> list[dict[str, Any]]:
    start, end = period.start.isoformat(), period.end.isoformat()
    return [{"t": p["t"], "v": p.get("v")} for p in series if start <= str(p["t"])[:10] <= end]


def kpi_cell(spec: MetricSpec, data: TenantData, period: Period) -> dict[str, Any]:
    if data.snapshot is None:
        return _cell(None, None, [], spec.unit, "unknown", f"no end-of-day {period.window} snapshot yet")
    entries = data.snapshot.get("kpis", {})
    kpi_id = next((k for k in spec.kpis if k in entries), None)
    if kpi_id is None:
        return _cell(
            None,
            None,
            [],
            spec.unit,
            "unknown",
            f"the snapshot carries no '{spec.kpis[0]}' KPI (no contract measures it yet)",
        )
    e = entries[kpi_id]
    value = e.get("value")
    reason = e.get("reason") or "not computable for this period"
    return _cell(
        value,
        e.get("previous"),
        _in_period(e.get("series") or [], period),
        spec.unit,
        e.get("status") or "unknown",
        reason,
        kpi_id=kpi_id,
        score=e.get("score"),
    )


# ------------------------------------------------------------------ org aggregation


def _agg(how: Agg, values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    if not known:
        return None
    if how == "sum":
        return round(sum(known), 4)
    if how == "max":
        return max(known)
    return round(statistics.fmean(known), 4)


def _org_series(how: Agg, cells: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    by_t: dict[str, list[float | None]] = {}
    for c in cells:
        for p in c["series"]:
            by_t.setdefault(str(p["t"]), []).append(p.get("v"))
    return [{"t": t, "v": _agg(how, vs)} for t, vs in sorted(by_t.items())]


def org_metric(spec: MetricSpec, cells: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    value = _agg(spec.org, (c["value"] for c in cells))
    previous = _agg(spec.org, (c["previous"] for c in cells))
    status, _ = _kpi_status(spec.kpis, value) if spec.kpis else ("unknown", None)
    known = sum(1 for c in cells if c["value"] is not None)
    reasons = [c["reason"] for c in cells if c.get("reason")]
    reason = (
        None
        if known
        else (
            max(set(reasons), key=reasons.count)
            if reasons
            else "no tenant in scope has a value for this metric"
        )
    )
    out = _cell(value, previous, _org_series(spec.org, cells), spec.unit, status, reason)
    return {
        "id": spec.id,
        "name": spec.name,
        "unit": spec.unit,
        "better": spec.better,
        "aggregation": spec.org,
        "tenants_known": known,
        **out,
    }


# ------------------------------------------------------------------ cards and ordering


def dashboard_href(tenant_id: str, persona: str, period: Period) -> str:
    """The tenant's own cockpit dashboard with the same period (custom ranges use their window)."""
    return f"/#/{quote(tenant_id, safe='')}/{persona}?period={period.window}"


def cert_list_href(tenant_id: str, within: int | None = None, status: str = "expiring") -> str:
    query = urlencode({**({"within": within} if within else {}), "status": status})
    return f"/rollup.html#/certs/{quote(tenant_id, safe='')}?{query}"


def controls_href(tenant_id: str, framework: str | None = None) -> str:
    query = f"?{urlencode({'framework': framework})}" if framework else ""
    return f"/rollup.html#/controls/{quote(tenant_id, safe='')}{query}"


def _card(
    data: TenantData,
    spec: DomainSpec,
    period: Period,
    metrics: dict[str, Any],
    headline: str,
    severity: tuple[float, ...] | None,
    **extra: Any,
) -> dict[str, Any]:
    t = data.tenant
    at = data.snapshot_at if spec.source == "snapshot" else data.posture_at
    head = metrics.get(headline) or {}
    return {
        "tenant": {"id": t.id, "name": t.name, "environment": t.environment, "home_region": t.home_region},
        "href": dashboard_href(t.id, spec.persona, period),
        "headline": headline,
        "value": head.get("value"),
        "display": head.get("display", "Unknown"),
        "delta": head.get("delta"),
        "series": head.get("series", []),
        "status": _worst_status(m["status"] for m in metrics.values()) if metrics else "unknown",
        "metrics": metrics,
        "snapshot": {
            "computed_at": at.isoformat() if at else None,
            "day": data.snapshot_day
            if spec.source == "snapshot"
            else (at.date().isoformat() if at else None),
            "source": "kpi_snapshot" if spec.source == "snapshot" else "inventory_snapshot",
        },
        "severity": list(severity) if severity is not None else None,
        **extra,
    }


_STATUS_ORDER = ("critical", "warning", "attention", "healthy", "excellent")


def _worst_status(statuses: Iterable[str]) -> str:
    known = [s for s in statuses if s in _STATUS_ORDER]
    return min(known, key=_STATUS_ORDER.index) if known else "unknown"


def worst_first(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest severity first; ties by tenant name; Unknown (no severity) after every known card."""
    known = [c for c in cards if c["severity"] is not None]
    unknown = [c for c in cards if c["severity"] is None]
    known.sort(key=lambda c: (*(-s for s in c["severity"]), c["tenant"]["name"]))
    unknown.sort(key=lambda c: c["tenant"]["name"])
    ordered = known + unknown
    for rank, c in enumerate(ordered, 1):
        c["rank"] = rank
    return ordered


def _kpi_severity(metrics: Mapping[str, Mapping[str, Any]]) -> tuple[float, ...] | None:
    scores = [
        m["score"] for m in metrics.values() if m.get("value") is not None and m.get("score") is not None
    ]
    return (round(100.0 - statistics.fmean(scores), 4),) if scores else None


# ------------------------------------------------------------------ domain builders


def _snapshot_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, by_metric = [], {m.id: [] for m in spec.metrics}  # type: ignore[var-annotated]
    for data in rows:
        metrics = {m.id: kpi_cell(m, data, period) for m in spec.metrics}
        for m_id, c in metrics.items():
            by_metric[m_id].append(c)
        cards.append(_card(data, spec, period, metrics, spec.headline, _kpi_severity(metrics)))
    org = [org_metric(m, by_metric[m.id]) for m in spec.metrics]
    return _domain(spec, org, cards)


def _domain(
    spec: DomainSpec,
    org: list[dict[str, Any]],
    cards: list[dict[str, Any]],
    reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    head = next((m for m in org if m["id"] == spec.headline), org[0] if org else None)
    stamps = [c["snapshot"]["computed_at"] for c in cards if c["snapshot"]["computed_at"]]
    if reason is None and head is not None and head["value"] is None:
        reason = head["reason"]
    return {
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "headline": head["id"] if head else None,
        "value": head["value"] if head else None,
        "display": head["display"] if head else "Unknown",
        "delta": head["delta"] if head else None,
        "series": head["series"] if head else [],
        "status": head["status"] if head else "unknown",
        "reason": reason,
        "metrics": org,
        "tenants": worst_first(cards),
        "unknown_tenants": sum(1 for c in cards if c["severity"] is None),
        "snapshot": {"oldest": min(stamps) if stamps else None, "newest": max(stamps) if stamps else None},
        **extra,
    }


def _points_series(period: Period, fn: Callable[[date], float | None]) -> list[dict[str, Any]]:
    return [{"t": d.isoformat(), "v": fn(d)} for d in period.points()]


def _compliance_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    days = [period.previous_end, *period.points()]
    per_tenant = {d.tenant.id: {day: inv.compliance(d.posture, day) for day in days} for d in rows}
    frameworks = [f for f in inv.FRAMEWORKS if any(f in by_day[period.end] for by_day in per_tenant.values())]

    def rate(by_day: Mapping[date, Mapping[str, Any]], day: date, fw: str | None) -> float | None:
        fws = by_day[day]
        if fw is not None:
            return fws[fw]["pass_rate"] if fw in fws else None
        controls = sum(f["controls"] for f in fws.values())
        return round(100.0 * sum(f["passing"] for f in fws.values()) / controls, 2) if controls else None

    cards = []
    for data in rows:
        by_day = per_tenant[data.tenant.id]
        metrics: dict[str, Any] = {}
        for fw in [*[f for f in frameworks if f in by_day[period.end]], None]:
            key = fw or "pass_rate"
            value = rate(by_day, period.end, fw)
            counts = (
                by_day[period.end].get(fw, {})
                if fw
                else {
                    "controls": sum(f["controls"] for f in by_day[period.end].values()),
                    "passing": sum(f["passing"] for f in by_day[period.end].values()),
                }
            )
            metrics[key] = _cell(
                value,
                rate(by_day, period.previous_end, fw),
                _points_series(period, partial(rate, by_day, fw=fw)),
                "percent",
                compliance_status(value),
                "no controls configured" if data.posture else "no inventory snapshot yet",
                framework=fw,
                controls=counts.get("controls", 0),
                passing=counts.get("passing", 0),
                href=controls_href(data.tenant.id, fw),
            )
        drops = [
            fw
            for fw in frameworks
            if fw in metrics
            and metrics[fw]["delta"] is not None
            and metrics[fw]["delta"] < -COMPLIANCE_DROP_POINTS
        ]
        chevron = (
            {
                "direction": "down",
                "color": "red",
                "frameworks": drops,
                "href": controls_href(data.tenant.id, drops[0]),
            }
            if drops
            else None
        )
        fw_rates = [
            metrics[f]["value"] for f in frameworks if f in metrics and metrics[f]["value"] is not None
        ]
        severity = (round(100.0 - min(fw_rates), 4),) if fw_rates else None
        cards.append(
            _card(
                data,
                spec,
                period,
                metrics,
                "pass_rate",
                severity,
                chevron=chevron,
                href_controls=controls_href(data.tenant.id),
            )
        )

    def pooled(day: date, fw: str | None) -> float | None:
        passing = controls = 0
        for by_day in per_tenant.values():
            for name, f in by_day[day].items():
                if fw is None or name == fw:
                    passing, controls = passing + f["passing"], controls + f["controls"]
        return round(100.0 * passing / controls, 2) if controls else None

    org = []
    for fw in [None, *frameworks]:
        value = pooled(period.end, fw)
        org.append(
            {
                "id": fw or "pass_rate",
                "name": f"{fw} pass rate" if fw else "Control pass rate",
                "unit": "percent",
                "better": "higher",
                "aggregation": "pooled",
                "tenants_known": sum(
                    1 for c in cards if (c["metrics"].get(fw or "pass_rate") or {}).get("value") is not None
                ),
                **_cell(
                    value,
                    pooled(period.previous_end, fw),
                    _points_series(period, partial(pooled, fw=fw)),
                    "percent",
                    compliance_status(value),
                    "no tenant in scope has set up a framework yet",
                ),
            }
        )
    reason = None if frameworks else "no tenant in scope has set up a framework yet"
    return _domain(spec, org, cards, reason, frameworks=frameworks)


def _cert_count(doc: Mapping[str, Any] | None, key: str, day: date) -> float:
    return float(inv.certificate_windows(doc, day)[key])


def _vendor_count(doc: Mapping[str, Any] | None, day: date) -> float:
    return float(inv.vendors_out_of_review(doc, day)["out_of_review"])


_CERT_METRICS = (
    ("expired", "Expired"),
    ("within_7", "Expiring in 7 days"),
    ("within_30", "Expiring in 30 days"),
    ("within_90", "Expiring in 90 days"),
)


def _certificates_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, by_metric = [], {k: [] for k, _ in _CERT_METRICS}  # type: ignore[var-annotated]
    for data in rows:
        if data.posture is None:
            metrics = {
                k: _cell(None, None, [], "count", "unknown", "no inventory snapshot yet", label=label)
                for k, label in _CERT_METRICS
            }
            severity = None
        else:
            now_c = inv.certificate_windows(data.posture, period.end)
            prev_c = inv.certificate_windows(data.posture, period.previous_end)
            status = certificate_status(now_c)
            metrics = {}
            for k, label in _CERT_METRICS:
                window = int(k.split("_")[1]) if k.startswith("within_") else None
                over = now_c[k] > (inv.CERT_THRESHOLDS[window] if window else 0)
                metrics[k] = _cell(
                    float(now_c[k]),
                    float(prev_c[k]),
                    _points_series(period, partial(_cert_count, data.posture, k)),
                    "count",
                    status,
                    label=label,
                    window=window,
                    over_threshold=over,
                    href=cert_list_href(data.tenant.id, window, "expiring" if window else "expired"),
                )
            severity = (
                float(now_c["expired"] + now_c["within_7"]),
                float(now_c["within_30"]),
                float(now_c["within_90"]),
            )
        for k, c in metrics.items():
            by_metric[k].append(c)
        cards.append(
            _card(
                data,
                spec,
                period,
                metrics,
                spec.headline,
                severity,
                href_certificates=cert_list_href(data.tenant.id, None, "all"),
            )
        )
    org = [
        org_metric(MetricSpec(k, label, "count", "lower", "sum"), by_metric[k]) for k, label in _CERT_METRICS
    ]
    for m in org:
        m["status"] = (
            "unknown"
            if m["value"] is None
            else (
                "critical"
                if m["id"] in ("expired", "within_7") and m["value"]
                else "warning"
                if m["value"]
                else "healthy"
            )
        )
    reason = None if any(d.posture for d in rows) else "no tenant in scope has a certificate inventory yet"
    return _domain(spec, org, cards, reason, windows=list(inv.CERT_WINDOWS), thresholds=inv.CERT_THRESHOLDS)


def _vendors_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, cells = [], []
    for data in rows:
        if data.posture is None:
            cell = _cell(None, None, [], "count", "unknown", "no inventory snapshot yet")
            severity = None
        else:
            now_v = inv.vendors_out_of_review(data.posture, period.end)
            prev_v = inv.vendors_out_of_review(data.posture, period.previous_end)
            cell = _cell(
                float(now_v["out_of_review"]),
                float(prev_v["out_of_review"]),
                _points_series(period, partial(_vendor_count, data.posture)),
                "count",
                vendor_status(now_v["out_of_review"]),
                tier1=now_v["tier1"],
                names=now_v["names"],
            )
            severity = (float(now_v["out_of_review"]), float(now_v["tier1"]))
        cells.append(cell)
        cards.append(_card(data, spec, period, {"tier1_out_of_review": cell}, spec.headline, severity))
    org = org_metric(
        MetricSpec("tier1_out_of_review", "Tier-1 vendors out of review", "count", "lower", "sum"), cells
    )
    org["status"] = "unknown" if org["value"] is None else vendor_status(int(org["value"]))
    reason = None if any(d.posture for d in rows) else "no tenant in scope has a vendor inventory yet"
    return _domain(spec, [org], cards, reason)


_BUILDERS: dict[str, Callable[[DomainSpec, Sequence[TenantData], Period], dict[str, Any]]] = {
    "compliance": _compliance_domain,
    "certificates": _certificates_domain,
    "vendors": _vendors_domain,
}


def build_domains(rows: Sequence[TenantData], period: Period) -> list[dict[str, Any]]:
    return [_BUILDERS.get(spec.id, _snapshot_domain)(spec, rows, period) for spec in DOMAINS]


# ------------------------------------------------------------------ appendix (PDF and API)


def appendix_rows(domains: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Raw numbers per tenant: one row per (tenant, domain, metric), in tenant-name order."""
    rows = []
    for d in domains:
        for card in d["tenants"]:
            for m_id, m in card["metrics"].items():
                rows.append(
                    {
                        "tenant": card["tenant"]["name"],
                        "tenant_id": card["tenant"]["id"],
                        "domain": d["name"],
                        "metric": m.get("label") or m.get("framework") or _metric_name(d, m_id),
                        "value": m["value"],
                        "display": m["display"],
                        "previous": m["previous"],
                        "delta": m["delta"],
                        "status": m["status"],
                        "snapshot_at": card["snapshot"]["computed_at"],
                    }
                )
    rows.sort(key=lambda r: (r["tenant"], DOMAIN_IDS.index(_domain_id(domains, r["domain"])), r["metric"]))
    return rows


def _metric_name(domain: Mapping[str, Any], metric_id: str) -> str:
    return next((m["name"] for m in domain["metrics"] if m["id"] == metric_id), metric_id)


def _domain_id(domains: Sequence[Mapping[str, Any]], name: str) -> str:
    return next(d["id"] for d in domains if d["name"] == name)


def rows_per_tenant() -> int:
    """Appendix rows one tenant contributes at most (the sync/async threshold's unit)."""
    kpi_rows = sum(len(d.metrics) for d in DOMAINS)
    return kpi_rows + (len(inv.FRAMEWORKS) + 1) + len(_CERT_METRICS) + 1
