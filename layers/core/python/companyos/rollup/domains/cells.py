"""Cells, one metric of one tenant (its value, formatted, delta, sparkline and band; Unknown with
the reason), and the org value of a metric aggregated over the tenants' cells.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from companyos.domain import kpis, verdict
from companyos.domain.verdict import Band
from companyos.rollup.domains.specs import Agg, MetricSpec, Period, TenantData

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


def make_cell(
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
        return make_cell(
            None, None, [], spec.unit, Band.UNKNOWN, f"no end-of-day {period.window} snapshot yet"
        )
    entries = data.snapshot.get("kpis", {})
    kpi_id = next((k for k in spec.kpis if k in entries), None)
    if kpi_id is None:
        return make_cell(
            None,
            None,
            [],
            spec.unit,
            Band.UNKNOWN,
            f"the snapshot carries no '{spec.kpis[0]}' KPI (no contract measures it yet)",
        )
    e = entries[kpi_id]
    return make_cell(
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


def incident_rows_cell(spec: MetricSpec, data: TenantData) -> dict[str, Any]:
    """A tenant's open incidents or MTTA: a figure of the incident rows its snapshot holds, which the
    mttr run delivered (the run is the cell's evidence), judged by the model (`verdict`)."""
    rows = ((data.snapshot or {}).get("panels") or {}).get("incidents")
    if not isinstance(rows, Mapping) or not rows.get("available"):
        why = (rows or {}).get("reason") if isinstance(rows, Mapping) else None
        why = why or f"the snapshot carries no incident rows (delivered with the mttr run) for {spec.id}"
        return make_cell(None, None, [], spec.unit, Band.UNKNOWN, why)
    value = rows.get(spec.incident_rows)
    extra: dict[str, Any] = {}
    if spec.incident_rows == "open":
        band = verdict.open_incidents(rows.get("open_bands") or [])
    elif spec.incident_rows == "postmortem_pct":
        band = verdict.postmortem_coverage(value)
        pm = rows.get("postmortems") or {}
        if value is not None:  # "4 of 5 · 80.0%": the count it is a share of
            extra["text"] = f"{display(value, spec.unit)} ({pm.get('covered')} of {pm.get('qualifying')})"
        extra["detail"] = {k: pm.get(k) for k in ("qualifying", "covered", "completed", "rule")}
    else:
        band = verdict.mtta(value)
    evidence = rows.get("evidence") or {}
    return make_cell(
        value,
        None,
        [],
        spec.unit,
        band,
        _NO_ROWS_VALUE.get(spec.incident_rows, "not computable for this period"),
        run_id=evidence.get("run_id"),
        evidence=evidence,
        **extra,
    )


_NO_ROWS_VALUE = {
    "mtta_min": "no incident of the period was acknowledged with its start on record",
    "postmortem_pct": "no P1/P2 incident was resolved in the period, so no postmortem was due",
}


def inventory_evidence(data: TenantData, what: str, href: str) -> dict[str, Any]:
    """What an inventory count cites (no KPI run computes it): the tenant's inventory snapshot, its
    time, and how many of its items each source keeps (the ACM or Prometheus pull, the API, the
    vendor register); `href` lists the items themselves."""
    items = (data.posture or {}).get(what) or []
    counts = Counter(str(i.get("source") or "register") for i in items if isinstance(i, Mapping))
    return {
        "type": "inventory",
        "object": what,
        "sources": [{"type": source, "count": n} for source, n in sorted(counts.items())],
        "as_of": data.posture_at.isoformat() if data.posture_at else None,
        "href": href,
    }


def points_series(period: Period, fn: Callable[[date], float | None]) -> list[dict[str, Any]]:
    return [{"t": d.isoformat(), "v": fn(d)} for d in period.points()]


# ------------------------------------------------------------------ org aggregation


def aggregate(how: Agg, values: Iterable[float | None]) -> float | None:
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
    return [{"t": t, "v": aggregate(how, vs)} for t, vs in sorted(by_t.items())]


def common_reason(cells: Sequence[Mapping[str, Any]], fallback: str) -> str:
    reasons = [c["reason"] for c in cells if c.get("reason")]
    return max(set(reasons), key=reasons.count) if reasons else fallback


def org_entry(spec: MetricSpec, cells: Sequence[Mapping[str, Any]], cell: dict[str, Any]) -> dict[str, Any]:
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
    value = aggregate(spec.org, (c["value"] for c in cells))
    previous = aggregate(spec.org, (c["previous"] for c in cells))
    if band is None:
        band = _org_band(spec.kpis, value) if spec.kpis else verdict.worst(c["status"] for c in cells)
    reason = common_reason(cells, "no tenant in scope has a value for this metric")
    return org_entry(
        spec, cells, make_cell(value, previous, _org_series(spec.org, cells), spec.unit, band, reason)
    )
