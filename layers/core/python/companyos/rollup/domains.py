"""The six roll-up domains, assembled from end-of-day snapshots: pure functions, no I/O.

Per domain: the org value of each metric (with its delta against the previous period and an org
sparkline), one card per tenant sorted worst-first, each card with its own values, sparkline, delta,
snapshot timestamp and deep links. Unknown stays Unknown, with the reason, and sorts after every
known card (it is never green and never "best").

Every status comes from the verdict model (companyos.domain.verdict), never from a rule of its own:
a tenant's KPI value carries the band its snapshot was judged with; an org value is judged with the
KPI's thresholds (`verdict.kpi_band`); SLO, certificate and vendor rows with their row rules. A card
(one tenant in one domain) and a tile (the org in one domain) are as bad as their worst metric,
capped by coverage (`verdict.capped`: measured on part of its metrics, a result says so and is at
most Attention; under half, Unknown), and name the metric that decides them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal
from urllib.parse import quote, urlencode

from companyos.adapters.repos import Tenant
from companyos.domain import inventory as inv
from companyos.domain import kpis, verdict
from companyos.domain.verdict import Band

Agg = Literal["sum", "mean", "max", "pooled"]
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
                "mean",  # per tenant: the KPI's target is a tenant's, so is the org value judged
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
            MetricSpec("objectives_in_budget", "Objectives in budget", "percent", "higher", "pooled"),
            MetricSpec("fastest_burn", "Fastest burn", "ratio_x", "lower", "max"),
        ),
        headline="objectives_in_budget",
        description="Service objectives whose error budget is not spent (of those measured); the fastest "
        "error-budget burn rate. From each tenant's per-service SLO rows.",
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

# ------------------------------------------------------------------ formatting


_FORMATS = {
    "percent": "{:.1f}%",
    "count": "{:.0f}",
    "per_day": "{:.1f}/day",
    "hours": "{:.1f} h",
    "minutes": "{:.0f} min",
    "ratio_x": "{:.2f}x",
}


def display(value: float | None, unit: str) -> str:
    if value is None:
        return "Unknown"
    return _FORMATS.get(unit, "{:.2f}").format(value)


def _org_band(kpi_ids: Sequence[str], value: float | None) -> Band:
    """An org value judged on the KPI dictionary's thresholds (the first KPI of the metric it has)."""
    known = kpis.load_dictionary().ids()
    kpi_id = next((k for k in kpi_ids if k in known), None)
    return verdict.kpi_band(kpi_id, value) if kpi_id else Band.UNKNOWN


# ------------------------------------------------------------------ cells (one metric of one tenant)


def _cell(
    value: float | None,
    previous: float | None,
    series: list[dict[str, Any]],
    unit: str,
    band: Band,
    reason: str | None = None,
    *,
    text: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One metric: its value, formatted (`text` when a count reads better than the value), and its
    band; no value is Unknown, with the reason, whatever band it was given."""
    known = value is not None
    return {
        "value": value,
        "display": (text or display(value, unit)) if known else "Unknown",
        "previous": previous,
        "delta": round(value - previous, 4) if value is not None and previous is not None else None,
        "series": series,
        "status": (band if known else Band.UNKNOWN).value,
        "reason": None if known else reason,
        **extra,
    }


def _in_period(series: Iterable[Mapping[str, Any]], period: Period) -> list[dict[str, Any]]:
    start, end = period.start.isoformat(), period.end.isoformat()
    return [{"t": p["t"], "v": p.get("v")} for p in series if start <= str(p["t"])[:10] <= end]


def kpi_cell(spec: MetricSpec, data: TenantData, period: Period) -> dict[str, Any]:
    """A tenant's KPI value with the band its snapshot was judged with (once, at refresh)."""
    if data.snapshot is None:
        return _cell(None, None, [], spec.unit, Band.UNKNOWN, f"no end-of-day {period.window} snapshot yet")
    entries = data.snapshot.get("kpis", {})
    kpi_id = next((k for k in spec.kpis if k in entries), None)
    if kpi_id is None:
        return _cell(
            None,
            None,
            [],
            spec.unit,
            Band.UNKNOWN,
            f"the snapshot carries no '{spec.kpis[0]}' KPI (no contract measures it yet)",
        )
    e = entries[kpi_id]
    return _cell(
        e.get("value"),
        e.get("previous"),
        _in_period(e.get("series") or [], period),
        spec.unit,
        verdict.parse(e.get("status")),
        e.get("reason") or "not computable for this period",
        kpi_id=kpi_id,
        score=e.get("score"),
        run_id=(e.get("evidence") or {}).get("run_id"),
        evidence=e.get("evidence"),  # the run that delivered the tenant's value
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


def _common_reason(cells: Sequence[Mapping[str, Any]], fallback: str) -> str:
    reasons = [c["reason"] for c in cells if c.get("reason")]
    return max(set(reasons), key=reasons.count) if reasons else fallback


def _org(spec: MetricSpec, cells: Sequence[Mapping[str, Any]], cell: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": spec.id,
        "name": spec.name,
        "unit": spec.unit,
        "better": spec.better,
        "aggregation": spec.org,
        "tenants_known": sum(1 for c in cells if c["value"] is not None),
        **cell,
    }


def org_metric(
    spec: MetricSpec, cells: Sequence[Mapping[str, Any]], band: Band | None = None
) -> dict[str, Any]:
    """The org value of a metric over the tenants' cells; judged on the KPI's thresholds, or `band`
    (a count summed over tenants is as bad as its worst tenant: `verdict.worst` of the cells)."""
    value = _agg(spec.org, (c["value"] for c in cells))
    previous = _agg(spec.org, (c["previous"] for c in cells))
    if band is None:
        band = _org_band(spec.kpis, value) if spec.kpis else verdict.worst(c["status"] for c in cells)
    reason = _common_reason(cells, "no tenant in scope has a value for this metric")
    return _org(spec, cells, _cell(value, previous, _org_series(spec.org, cells), spec.unit, band, reason))


# ------------------------------------------------------------------ verdicts of cards and tiles


def judged(
    metrics: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
    coverage: float | None = None,
    missing: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The verdict of a set of metrics (a tenant's card, or the org's tile): the worst known band,
    capped by coverage (by default the share of metrics with a value), with the metric that decides
    it and, while partial, what is missing. `decided_by` is None when the cap decided it."""
    known = [k for k, m in metrics.items() if m["value"] is not None]
    if coverage is None:
        coverage = len(known) / len(metrics) if metrics else 0.0
    if missing is None:
        missing = [names.get(k, k) for k in metrics if k not in known]
    worst_key = min(known, key=lambda k: Band(metrics[k]["status"]).rank) if known else None
    worst_band = Band(metrics[worst_key]["status"]) if worst_key else Band.UNKNOWN
    status = verdict.capped(worst_band, coverage)
    decided_by = None
    if worst_key is not None and status is worst_band:
        m = metrics[worst_key]
        decided_by = {"metric": worst_key, "name": names.get(worst_key, worst_key), "display": m["display"]}
        decided_by["status"] = worst_band.value
    return {
        "status": status.value,
        "coverage": round(coverage, 4),
        # nothing measured at all is Unknown with its reason, not "partial"
        "partial": verdict.partial_note(coverage, missing) if known else None,
        "decided_by": decided_by,
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


def _names(spec: DomainSpec) -> dict[str, str]:
    return {m.id: m.name for m in spec.metrics}


def _card(
    data: TenantData,
    spec: DomainSpec,
    period: Period,
    metrics: dict[str, Any],
    headline: str,
    severity: tuple[float, ...] | None,
    names: Mapping[str, str] | None = None,
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
        "headline_status": head.get("status", Band.UNKNOWN.value),
        "reason": head.get("reason"),
        "delta": head.get("delta"),
        "series": head.get("series", []),
        **judged(metrics, names if names is not None else _names(spec)),
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


def worst_first(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst verdict first (Critical … Excellent, Unknown last); within a verdict, highest severity
    first, then tenant name. A card without a severity sorts after those with one."""

    def key(c: dict[str, Any]) -> tuple[Any, ...]:
        severity = c.get("severity")
        return (
            verdict.parse(c.get("status")).rank,
            severity is None,
            tuple(-s for s in severity or ()),
            c["tenant"]["name"],
        )

    ordered = sorted(cards, key=key)
    for rank, c in enumerate(ordered, 1):
        c["rank"] = rank
    return ordered


def _kpi_severity(metrics: Mapping[str, Mapping[str, Any]]) -> tuple[float, ...] | None:
    scores = [
        m["score"] for m in metrics.values() if m.get("value") is not None and m.get("score") is not None
    ]
    return (round(100.0 - statistics.fmean(scores), 4),) if scores else None


# ------------------------------------------------------------------ tiles


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
    ordered = worst_first(cards)
    return {
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "headline": head["id"] if head else None,
        "value": head["value"] if head else None,
        "display": head["display"] if head else "Unknown",
        "headline_status": head["status"] if head else Band.UNKNOWN.value,
        "delta": head["delta"] if head else None,
        "series": head["series"] if head else [],
        **_tile_verdict(org, cards),
        "reason": reason,
        "metrics": org,
        "tenants": ordered,
        "tenant_status": _status_counts(cards),
        "unknown_tenants": sum(1 for c in cards if c["status"] == Band.UNKNOWN.value),
        "snapshot": {"oldest": min(stamps) if stamps else None, "newest": max(stamps) if stamps else None},
        **extra,
    }


def _tile_verdict(org: list[dict[str, Any]], cards: list[dict[str, Any]]) -> dict[str, Any]:
    """The org's verdict in a domain: its worst org metric, capped by the share of (tenant, metric)
    cells that have a value; while partial it names what is missing and at how many tenants."""
    cells = [(k, m) for c in cards for k, m in c["metrics"].items()]
    if not cells:
        return {"status": Band.UNKNOWN.value, "coverage": 0.0, "partial": None, "decided_by": None}
    names = {m["id"]: m["name"] for m in org}
    lacking: dict[str, int] = {}
    for k, m in cells:
        if m["value"] is None:
            lacking[k] = lacking.get(k, 0) + 1
    missing = [f"{names.get(k, k)} at {n} of {len(cards)} tenants" for k, n in lacking.items()]
    known = len(cells) - sum(lacking.values())
    out = judged({m["id"]: m for m in org}, names, known / len(cells), missing)
    return {**out, "partial": out["partial"] if known else None}


def _status_counts(cards: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many tenants have each verdict, worst first (only verdicts that occur)."""
    counts: dict[str, int] = {}
    for b in sorted(Band, key=lambda b: b.rank):
        n = sum(1 for c in cards if c["status"] == b.value)
        if n:
            counts[b.value] = n
    return counts


# ------------------------------------------------------------------ domain builders: KPI snapshots


def _snapshot_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, by_metric = [], {m.id: [] for m in spec.metrics}  # type: ignore[var-annotated]
    for data in rows:
        metrics = {m.id: kpi_cell(m, data, period) for m in spec.metrics}
        for m_id, c in metrics.items():
            by_metric[m_id].append(c)
        cards.append(_card(data, spec, period, metrics, spec.headline, _kpi_severity(metrics)))
    org = [org_metric(m, by_metric[m.id]) for m in spec.metrics]
    return _domain(spec, org, cards)


# ------------------------------------------------------------------ SLOs: objectives in budget


def _slo_rows(data: TenantData, period: Period) -> tuple[list[Mapping[str, Any]], str | None]:
    """The tenant's per-service SLO rows of its snapshot (value = attainment %, budget_left = the
    error budget's remaining share), or why there are none."""
    if data.snapshot is None:
        return [], f"no end-of-day {period.window} snapshot yet"
    panel = (data.snapshot.get("panels") or {}).get("slo") or {}
    if not panel.get("available"):
        return [], panel.get("reason") or "the snapshot carries no per-service SLO rows"
    return list(panel.get("items") or []), None


def _row_run_ids(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(r["evidence"]["run_id"]) for r in rows if (r.get("evidence") or {}).get("run_id")})


def _rows_evidence(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The run that delivered the SLO rows a cell counts (one slo_attainment run per snapshot)."""
    ev = next((r.get("evidence") for r in rows if (r.get("evidence") or {}).get("run_id")), None)
    return dict(ev) if ev else None


def _in_budget_cell(rows: Sequence[Mapping[str, Any]], reason: str | None) -> dict[str, Any]:
    """Objectives in budget (the seed's SLO measure): of the services with a measured budget, those
    whose error budget is not spent. Its band is the worst service's (`verdict.slo_row`: a spent
    budget is Critical), so "in budget" never sits beside a Critical objective."""
    judged_rows = [r for r in rows if r.get("budget_left") is not None]
    inside = [r for r in judged_rows if float(r["budget_left"]) > 0]
    outside = [str(r.get("service") or r.get("id")) for r in judged_rows if float(r["budget_left"]) <= 0]
    value = round(100.0 * len(inside) / len(judged_rows), 2) if judged_rows else None
    band = verdict.worst(verdict.slo_row(r.get("value"), float(r["budget_left"])) for r in judged_rows)
    return _cell(
        value,
        None,
        [],
        "percent",
        band,
        reason or "no service has a measured error budget in the period",
        text=f"{len(inside)} of {len(judged_rows)} in budget",
        objectives=len(judged_rows),
        in_budget=len(inside),
        out_of_budget=outside,
        run_ids=_row_run_ids(judged_rows),
        evidence=_rows_evidence(judged_rows),
    )


def _fastest_burn_cell(rows: Sequence[Mapping[str, Any]], reason: str | None) -> dict[str, Any]:
    burning = [r for r in rows if isinstance(r.get("burn_rate"), int | float)]
    fastest = max(burning, key=lambda r: float(r["burn_rate"])) if burning else None
    rate = float(fastest["burn_rate"]) if fastest else None
    return _cell(
        rate,
        None,
        [],
        "ratio_x",
        verdict.burn(rate),
        reason or "no service has a measured burn rate in the period",
        service=str(fastest.get("service") or fastest.get("id")) if fastest else None,
        run_ids=_row_run_ids([fastest] if fastest else []),
        evidence=_rows_evidence([fastest] if fastest else []),
    )


def _slos_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, budget_cells, burn_cells = [], [], []
    for data in rows:
        slo_rows, reason = _slo_rows(data, period)
        budget, burn = _in_budget_cell(slo_rows, reason), _fastest_burn_cell(slo_rows, reason)
        budget_cells.append(budget)
        burn_cells.append(burn)
        severity = (
            (round(100.0 - budget["value"], 4), burn["value"] or 0.0) if budget["value"] is not None else None
        )
        metrics = {"objectives_in_budget": budget, "fastest_burn": burn}
        cards.append(_card(data, spec, period, metrics, spec.headline, severity))
    objectives = sum(c.get("objectives", 0) for c in budget_cells)
    inside = sum(c.get("in_budget", 0) for c in budget_cells)
    pooled = round(100.0 * inside / objectives, 2) if objectives else None
    budget_spec, burn_spec = spec.metrics
    org_budget = _org(
        budget_spec,
        budget_cells,
        _cell(
            pooled,
            None,
            [],
            "percent",
            verdict.worst(c["status"] for c in budget_cells),
            _common_reason(budget_cells, "no tenant in scope has per-service SLO rows"),
            text=f"{inside} of {objectives} in budget",
            objectives=objectives,
            in_budget=inside,
        ),
    )
    org_burn = org_metric(burn_spec, burn_cells, verdict.burn(_agg("max", (c["value"] for c in burn_cells))))
    return _domain(spec, [org_budget, org_burn], cards)


# ------------------------------------------------------------------ compliance (inventory)


def _points_series(period: Period, fn: Callable[[date], float | None]) -> list[dict[str, Any]]:
    return [{"t": d.isoformat(), "v": fn(d)} for d in period.points()]


ByDay = Mapping[date, Mapping[str, Mapping[str, Any]]]  # day -> framework -> controls/passing/pass_rate


def _pass_rate(by_day: ByDay, day: date, fw: str | None) -> float | None:
    """A framework's pass rate on a day, or (fw None) all the tenant's controls pooled."""
    fws = by_day[day]
    if fw is not None:
        return fws[fw]["pass_rate"] if fw in fws else None
    controls = sum(f["controls"] for f in fws.values())
    return round(100.0 * sum(f["passing"] for f in fws.values()) / controls, 2) if controls else None


def _compliance_band(rate: float | None) -> Band:
    """A control pass rate judged on the compliance_score KPI (control adherence) thresholds."""
    return verdict.kpi_band("compliance_score", rate)


def _compliance_metrics(
    data: TenantData, by_day: ByDay, frameworks: Sequence[str], period: Period
) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    today = by_day[period.end]
    for fw in [*[f for f in frameworks if f in today], None]:
        value = _pass_rate(by_day, period.end, fw)
        counts = today.get(fw, {}) if fw else {
            "controls": sum(f["controls"] for f in today.values()),
            "passing": sum(f["passing"] for f in today.values()),
        }  # fmt: skip
        metrics[fw or "pass_rate"] = _cell(
            value,
            _pass_rate(by_day, period.previous_end, fw),
            _points_series(period, partial(_pass_rate, by_day, fw=fw)),
            "percent",
            _compliance_band(value),
            "no controls configured" if data.posture else "no inventory snapshot yet",
            framework=fw,
            controls=counts.get("controls", 0),
            passing=counts.get("passing", 0),
            href=controls_href(data.tenant.id, fw),
        )
    return metrics


def _chevron(tenant_id: str, metrics: Mapping[str, Any], frameworks: Sequence[str]) -> dict[str, Any] | None:
    """A red chevron when a framework's pass rate dropped more than 5 points in the period."""
    drops = [
        fw
        for fw in frameworks
        if fw in metrics
        and metrics[fw]["delta"] is not None
        and metrics[fw]["delta"] < -COMPLIANCE_DROP_POINTS
    ]
    if not drops:
        return None
    return {
        "direction": "down",
        "color": "red",
        "frameworks": drops,
        "href": controls_href(tenant_id, drops[0]),
    }


def _compliance_names(frameworks: Iterable[str]) -> dict[str, str]:
    return {"pass_rate": "Control pass rate", **{fw: f"{fw} pass rate" for fw in frameworks}}


def _compliance_org(
    per_tenant: Mapping[str, ByDay],
    frameworks: Sequence[str],
    cards: Sequence[Mapping[str, Any]],
    period: Period,
) -> list[dict[str, Any]]:
    def pooled(day: date, fw: str | None) -> float | None:
        passing = controls = 0
        for by_day in per_tenant.values():
            for name, f in by_day[day].items():
                if fw is None or name == fw:
                    passing, controls = passing + f["passing"], controls + f["controls"]
        return round(100.0 * passing / controls, 2) if controls else None

    names = _compliance_names(frameworks)
    org = []
    for fw in [None, *frameworks]:
        key = fw or "pass_rate"
        spec = MetricSpec(key, names[key], "percent", "higher", "pooled")
        value = pooled(period.end, fw)
        cells = [c["metrics"][key] for c in cards if key in c["metrics"]]
        cell = _cell(
            value,
            pooled(period.previous_end, fw),
            _points_series(period, partial(pooled, fw=fw)),
            "percent",
            _compliance_band(value),
            "no tenant in scope has set up a framework yet",
        )
        org.append(_org(spec, cells, cell))
    return org


def _compliance_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    days = [period.previous_end, *period.points()]
    per_tenant = {d.tenant.id: {day: inv.compliance(d.posture, day) for day in days} for d in rows}
    frameworks = [f for f in inv.FRAMEWORKS if any(f in by_day[period.end] for by_day in per_tenant.values())]
    cards = []
    for data in rows:
        metrics = _compliance_metrics(data, per_tenant[data.tenant.id], frameworks, period)
        fw_rates = [
            metrics[f]["value"] for f in frameworks if f in metrics and metrics[f]["value"] is not None
        ]
        cards.append(
            _card(
                data,
                spec,
                period,
                metrics,
                "pass_rate",
                (round(100.0 - min(fw_rates), 4),) if fw_rates else None,
                _compliance_names(frameworks),
                chevron=_chevron(data.tenant.id, metrics, frameworks),
                href_controls=controls_href(data.tenant.id),
            )
        )
    org = _compliance_org(per_tenant, frameworks, cards, period)
    reason = None if frameworks else "no tenant in scope has set up a framework yet"
    return _domain(spec, org, cards, reason, frameworks=frameworks)


# ------------------------------------------------------------------ certificates and vendors (inventory)


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


def _window_of(key: str) -> int | None:
    return int(key.split("_")[1]) if key.startswith("within_") else None


def _cert_metrics(data: TenantData, period: Period) -> dict[str, Any]:
    if data.posture is None:
        return {
            k: _cell(None, None, [], "count", Band.UNKNOWN, "no inventory snapshot yet", label=label)
            for k, label in _CERT_METRICS
        }
    now_c = inv.certificate_windows(data.posture, period.end)
    prev_c = inv.certificate_windows(data.posture, period.previous_end)
    metrics = {}
    for k, label in _CERT_METRICS:
        window = _window_of(k)
        band = verdict.certificates(window, now_c[k])
        metrics[k] = _cell(
            float(now_c[k]),
            float(prev_c[k]),
            _points_series(period, partial(_cert_count, data.posture, k)),
            "count",
            band,
            label=label,
            window=window,
            over_threshold=band is not Band.HEALTHY,
            href=cert_list_href(data.tenant.id, window, "expiring" if window else "expired"),
        )
    return metrics


def _certificates_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, by_metric = [], {k: [] for k, _ in _CERT_METRICS}  # type: ignore[var-annotated]
    names = dict(_CERT_METRICS)
    for data in rows:
        metrics = _cert_metrics(data, period)
        for k, c in metrics.items():
            by_metric[k].append(c)
        severity = None
        if data.posture is not None:
            severity = tuple(
                float(v)
                for v in (
                    metrics["expired"]["value"] + metrics["within_7"]["value"],
                    metrics["within_30"]["value"],
                    metrics["within_90"]["value"],
                )
            )
        cards.append(
            _card(
                data,
                spec,
                period,
                metrics,
                spec.headline,
                severity,
                names,
                href_certificates=cert_list_href(data.tenant.id, None, "all"),
            )
        )
    # an org count summed over tenants is as bad as its worst tenant's window
    org = [
        org_metric(MetricSpec(k, label, "count", "lower", "sum"), by_metric[k]) for k, label in _CERT_METRICS
    ]
    reason = None if any(d.posture for d in rows) else "no tenant in scope has a certificate inventory yet"
    return _domain(spec, org, cards, reason, windows=list(inv.CERT_WINDOWS), thresholds=inv.CERT_THRESHOLDS)


def _vendors_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, cells = [], []
    name = "Tier-1 vendors out of review"
    for data in rows:
        if data.posture is None:
            cell = _cell(None, None, [], "count", Band.UNKNOWN, "no inventory snapshot yet")
            severity = None
        else:
            now_v = inv.vendors_out_of_review(data.posture, period.end)
            prev_v = inv.vendors_out_of_review(data.posture, period.previous_end)
            cell = _cell(
                float(now_v["out_of_review"]),
                float(prev_v["out_of_review"]),
                _points_series(period, partial(_vendor_count, data.posture)),
                "count",
                verdict.vendors_out_of_review(now_v["out_of_review"]),
                tier1=now_v["tier1"],
                names=now_v["names"],
            )
            severity = (float(now_v["out_of_review"]), float(now_v["tier1"]))
        cells.append(cell)
        metrics = {"tier1_out_of_review": cell}
        cards.append(
            _card(data, spec, period, metrics, spec.headline, severity, {"tier1_out_of_review": name})
        )
    org = org_metric(MetricSpec("tier1_out_of_review", name, "count", "lower", "sum"), cells)
    reason = None if any(d.posture for d in rows) else "no tenant in scope has a vendor inventory yet"
    return _domain(spec, [org], cards, reason)


_BUILDERS: dict[str, Callable[[DomainSpec, Sequence[TenantData], Period], dict[str, Any]]] = {
    "slos": _slos_domain,
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
