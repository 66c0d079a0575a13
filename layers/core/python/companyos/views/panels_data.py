"""Panel rows read live from the stored signals: the drill-downs (views/drilldown/: service map,
changes, incidents) and the panels that no KPI run delivers (OKR progress, the catalog's services).

The snapshot's KPI-backed panels (SLO table, burn, capacity, vulnerabilities, security events,
incidents, deployments, features, funnel, NPS, cost) are NOT built here: they are delivered with
their KPI runs (runs/rows*.py) and copied by the score refresh (views/snapshots.py). `build`
composes the same row builders over live signals (the row builders' integration tests).

Each entry is either `{"available": True, ...rows..., "evidence": {...}}` or
`{"available": False, "reason": "..."}` — never invented numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from companyos.adapters.repos import RunLog, SignalStore, StoredSignal, TenantCatalog
from companyos.domain import clock, verdict
from companyos.runs.contracts import PERIODS
from companyos.runs.rows import (
    INCIDENT_LOOKBACK_DAYS,
    MAX_ROWS,
    PRIORITY_RANK,
    SLO_KIND,
    _ev,
    _in,
    _pct,
    _unavailable,
    evidence_of,
    window_start,
)
from companyos.runs.rows_ops import (
    _deployments_entry,
    _incidents_entry,
    deployment_rows,
    fold_incidents,
    is_production,
)
from companyos.runs.rows_product import ACTIVITY_KINDS, _features_entry, _funnel_entry, _nps_entry
from companyos.runs.rows_security import _security_events_entry, _vulns_entry
from companyos.runs.rows_slo import (
    CAPACITY_DAYS,
    SAMPLE_KIND,
    _capacity_entry,
    _slo_entries,
    slo_counts,
    slo_objective,
)
from companyos.views.deliveries import Delivered, delivery_evidence, latest_delivery
from companyos.views.security_reviews import REVIEW_LOOKBACK_DAYS, reviews_entry

__all__ = [
    "MAX_ROWS",
    "PRIORITY_RANK",
    "SLO_KIND",
    "deployment_rows",
    "evidence_of",
    "fold_incidents",
    "is_production",
    "slo_counts",
    "slo_objective",
]
SECURITY_EVENTS_DAYS = 7


# ------------------------------------------------------------------------------ signal folding


def signals(tenant_id: str, kind: str, days: int, now: datetime) -> list[StoredSignal]:
    """A kind's signals over the `days` calendar days to `now` (the KPI runs' window)."""
    return list(SignalStore(tenant_id).query(kind, window_start(now, days), now))


def catalog_services(tenant_id: str) -> dict[str, dict[str, Any]]:
    """Services known to the catalog (via source mappings), with their domain and mapped entities."""
    cat = TenantCatalog(tenant_id)
    services: dict[str, dict[str, Any]] = {}
    for source in ("github", "pagerduty", "prometheus"):
        for entity, m in sorted(cat.source_map(source).items()):
            svc = services.setdefault(
                m["service"], {"service": m["service"], "domain": m.get("domain"), "entities": []}
            )
            svc["entities"].append({"source": source, "entity": entity})
    return services


def fetch(tenant_id: str, days: int, now: datetime) -> dict[str, Any]:
    """Every signal the panel rows are folded from, over `days` (one Query per kind)."""
    store = SignalStore(tenant_id)
    return {
        "services": catalog_services(tenant_id),
        "deployment": signals(tenant_id, "deployment", days, now),
        "incident": signals(tenant_id, "incident", max(days, INCIDENT_LOOKBACK_DAYS), now),
        "postmortem": signals(tenant_id, "postmortem", max(days, INCIDENT_LOOKBACK_DAYS), now),
        SLO_KIND: signals(tenant_id, SLO_KIND, days, now),
        SAMPLE_KIND: signals(tenant_id, SAMPLE_KIND, CAPACITY_DAYS + 1, now),  # the last 24 h: from yesterday
        "vulnerability": signals(tenant_id, "vulnerability", days, now),
        "open_vulnerabilities": store.findings("vulnerability", status="open"),
        "secret_finding": signals(tenant_id, "secret_finding", max(days, SECURITY_EVENTS_DAYS), now),
        "authz_decision": signals(tenant_id, "authz_decision", SECURITY_EVENTS_DAYS, now),
        "okr_progress": signals(tenant_id, "okr_progress", OKR_LOOKBACK_DAYS, now),
        "security_review": signals(tenant_id, "security_review", REVIEW_LOOKBACK_DAYS, now),
        "cost_run": latest_cost_run(tenant_id),
        "nps_response": signals(tenant_id, "nps_response", days, now),
        "activity": {k: signals(tenant_id, k, days, now) for k in ACTIVITY_KINDS},
    }


def _rows(tenant_id: str, period: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    days = PERIODS[period]
    lookback = now - timedelta(days=max(days, INCIDENT_LOOKBACK_DAYS))
    services = data["services"]
    slo_table, burn = _slo_entries(tenant_id, data[SLO_KIND], days, now)
    return {
        "services": {
            "available": bool(services),
            "reason": None if services else "no services are mapped in the catalog yet",
            "items": list(services.values())[:50],
        },
        "incidents": _incidents_entry(
            tenant_id,
            [s for s in data["incident"] if s.occurred_at >= lookback],
            days,
            now,
            data["postmortem"],
        ),
        "deployments": _deployments_entry(tenant_id, data["deployment"], days, now, period),
        "slo": slo_table,
        "burn": burn,
        "capacity": _capacity_entry(tenant_id, data[SAMPLE_KIND], now),
        "vulns": _vulns_entry(data["open_vulnerabilities"], data["vulnerability"], days, now),
        "security_events": _security_events_entry(data["secret_finding"], data["authz_decision"], now),
        "cost": _cost_entry(tenant_id, data["cost_run"]),
        "infra_cost": _infra_cost_entry(tenant_id, data["cost_run"]),
        "okrs": _okrs_entry(data["okr_progress"], now),
        "reviews": reviews_entry(data["security_review"], now),
        "features": _features_entry(data["activity"], days, now),
        "funnel": _funnel_entry(data["activity"], days, now),
        "nps": _nps_entry(data["nps_response"], days, now),
    }


def not_from_runs(tenant_id: str, now: datetime) -> dict[str, dict[str, Any]]:
    """Per period, the snapshot panels no KPI run delivers rows for: the catalog's services, OKR
    progress and pending security reviews (no KPI of the health model computes them), and the cost
    tile/breakdown (read from the infra_cost_mtd run's own delivery). Four Queries and the cost
    run's log rows."""
    services = catalog_services(tenant_id)
    cost_run = latest_cost_run(tenant_id)
    okrs = _okrs_entry(signals(tenant_id, "okr_progress", OKR_LOOKBACK_DAYS, now), now)
    entry = {
        "services": {
            "available": bool(services),
            "reason": None if services else "no services are mapped in the catalog yet",
            "items": list(services.values())[:50],
        },
        "cost": _cost_entry(tenant_id, cost_run),
        "infra_cost": _infra_cost_entry(tenant_id, cost_run),
        "okrs": okrs,
        "reviews": reviews_entry(signals(tenant_id, "security_review", REVIEW_LOOKBACK_DAYS, now), now),
    }
    return {p: dict(entry) for p in PERIODS}


def build(tenant_id: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per period: the panel rows the dashboards read from the snapshot (`snapshot["panels"]`)."""
    now = now or clock.now()
    data = fetch(tenant_id, max(PERIODS.values()), now)
    return {p: _rows(tenant_id, p, now, data) for p in PERIODS}


OKR_LOOKBACK_DAYS = 120  # key results updated in the last quarter or so are current

# ---------------------------------------------------------------- cost (CUR 2.0, from the cost KPI run)
#
# The Ops "Infra cost (MTD)" tile and the cost breakdown come from the latest delivered run of the
# `infra_cost_mtd` contract (runs/packs/cost-contracts-v1.yaml): its month-to-date value and the
# breakdowns (by service, by team) its lake sources delivered. The refresh reads the run log only
# (no Athena/DuckDB at refresh); every number carries the run as evidence plus the CUR billing
# period and the hash of the SQL that produced it.

COST_KPI = "infra_cost_mtd"


def cur_lake_name(tenant_id: str) -> str:
    """The lake holding a tenant's CUR 2.0 export (`runs/lake.register`; the demo registers one)."""
    from companyos.adapters import lake
    from companyos.runs import contracts

    return lake.resolve_name(contracts.get(COST_KPI).formula.lake, tenant_id)


def latest_cost_run(tenant_id: str) -> tuple[Any, str | None]:
    """(Delivered run of infra_cost_mtd or None, the reason when None)."""
    return latest_delivery(RunLog(tenant_id), COST_KPI)


def _run_evidence(tenant_id: str, d: Delivered, extra: dict[str, Any]) -> dict[str, Any]:
    """The run's evidence as KPI tiles carry it (views/deliveries.py), plus what the number read."""
    return {
        **delivery_evidence(d, tenant_id),
        "type": "kpi_run",
        "kpi_id": COST_KPI,
        "time_range": d.delivery.get("time_range"),
        **extra,
    }


def _infra_cost_entry(tenant_id: str, cost_run: tuple[Any, str | None]) -> dict[str, Any]:
    """The tile: month-to-date cost, against the plan (budget_vs_actual) if the tenant set one,
    else against the previous month to the same day."""
    d, reason = cost_run
    if d is None:
        return _unavailable(f"{COST_KPI} (AWS CUR 2.0 cost): {reason}")
    window = d.delivery["values"]["7d"]  # every period of a month-to-date contract is the same
    value, previous = window.get("value"), window.get("previous")
    if value is None:
        return _unavailable(window.get("reason") or "no cost in the month to date")
    plan = (d.delivery.get("extension_values") or {}).get("budget_vs_actual")
    if plan and plan.get("variance_pct") is not None:
        change, basis = plan["variance_pct"], "plan"
        note = f"{'▲' if change > 0 else '▼'} {abs(change):.0f}% vs plan (${plan['budget']:,.0f} to date)"
    elif previous:
        change, basis = 100.0 * (value - previous) / abs(previous), "last_month"
        note = f"{'▲' if change > 0 else '▼'} {abs(change):.0f}% vs last month to date (${previous:,.0f})"
    else:
        change, basis, note = None, None, "no plan and no cost last month to compare with"
    periods = sorted({p for b in d.delivery.get("breakdowns", []) for p in b.get("billing_periods", [])})
    daily: dict[str, Any] = next((s for s in d.delivery.get("sources", []) if not s.get("role")), {})
    return {
        "available": True,
        "value": round(float(value), 2),
        "previous": previous,
        "display": f"${value:,.0f}",
        "change_pct": change,
        "basis": basis,
        "status": verdict.cost_change(change),
        "reason": note,
        "series": window.get("series", []),
        "evidence": _run_evidence(
            tenant_id, d, {"billing_periods": periods, "sql_hash": daily.get("sql_hash")}
        ),
    }


def _cost_entry(tenant_id: str, cost_run: tuple[Any, str | None]) -> dict[str, Any]:
    """The cost breakdown panel: month-to-date cost by AWS service and by team (tag `user_team`)."""
    d, reason = cost_run
    if d is None:
        return _unavailable(f"{COST_KPI} (AWS CUR 2.0 cost): {reason}")
    breakdowns = d.delivery.get("breakdowns") or []
    if not any(b.get("items") for b in breakdowns):
        return _unavailable("the cost run delivered no cost breakdown for the month to date")
    items = []
    for b in breakdowns:
        group = str(b["object"]).rsplit("_by_", 1)[-1]  # cur2.amortized_cost_by_service → service
        ev = _run_evidence(
            tenant_id,
            d,
            {"billing_periods": b["billing_periods"], "sql_hash": b["sql_hash"], "range": b["range"]},
        )
        top = max((i["value"] for i in b["items"]), default=0.0)
        for i in b["items"]:
            share = round(100.0 * i["value"] / b["total"], 1) if b["total"] else None
            items.append(
                {
                    "id": f"{group}:{i['dimension']}",
                    "group": group,
                    "label": f"{group.capitalize()}: {i['dimension']}",
                    "value": round(i["value"], 2),
                    "display": f"${i['value']:,.0f}" + (f" ({share:.0f}%)" if share is not None else ""),
                    "share": share,
                    "max": round(top, 2),  # no status: a share of the cost is not judged (the tile is)
                    "reason": None,
                    "evidence": ev,
                }
            )
    first = breakdowns[0]
    start, end = first["range"]
    return {
        "available": True,
        "currency": "USD",
        "total": round(first["total"], 2),
        "range": first["range"],
        "billing_periods": first["billing_periods"],
        "items": items,
        "summary": f"${first['total']:,.0f} amortized, month to date ({start} to {end}), by service and team",
        "evidence": _run_evidence(tenant_id, d, {"billing_periods": first["billing_periods"]}),
    }


# ---------------------------------------------------------------- OKR progress


def _okr_expected(period: str | None, now: datetime) -> float | None:
    """Share of an OKR period elapsed (2025-Q3, 2025-H1, 2025), or None if not parseable."""
    import re

    m = re.fullmatch(r"(\d{4})(?:-(Q[1-4]|H[12]))?", str(period or ""))
    if not m:
        return None
    year, part = int(m.group(1)), m.group(2)
    first, months = 1, 12
    if part and part[0] == "Q":
        first, months = 3 * (int(part[1]) - 1) + 1, 3
    elif part:
        first, months = 6 * (int(part[1]) - 1) + 1, 6
    start = datetime(year, first, 1, tzinfo=UTC)
    end_month = first + months
    end = datetime(year + (end_month > 12), (end_month - 1) % 12 + 1, 1, tzinfo=UTC)
    return min(1.0, max(0.0, (now - start) / (end - start)))


def _okrs_entry(okr_signals: list[StoredSignal], now: datetime) -> dict[str, Any]:
    rows = _in(okr_signals, now - timedelta(days=OKR_LOOKBACK_DAYS))
    if not rows:
        return _unavailable(f"no OKR progress updates ingested in the last {OKR_LOOKBACK_DAYS} days")
    latest: dict[str, Any] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        latest[str(s.attributes.get("key_result_id") or s.entity or s.signal_id)] = s
    items = []
    for kr, s in sorted(latest.items(), key=lambda kv: (str(kv[1].attributes.get("objective_id")), kv[0])):
        a = s.attributes
        progress = a.get("progress")
        pct = None if progress is None else 100.0 * float(progress)
        expected = _okr_expected(a.get("period"), now)
        status = verdict.key_result(pct, None if expected is None else 100.0 * expected)
        updates = [r for r in rows if str(r.attributes.get("key_result_id") or r.entity) == kr]
        items.append(
            {
                "id": kr,
                "label": f"{a.get('objective') or a.get('objective_id')}: {a.get('key_result') or kr}",
                "objective_id": a.get("objective_id"),
                "period": a.get("period"),
                "owner": a.get("owner"),
                "value": pct,
                "display": _pct(pct, 0),
                "max": 100,
                "current": a.get("current_value"),
                "target": a.get("target_value"),
                "expected": None if expected is None else round(100.0 * expected, 1),
                "confidence": a.get("confidence"),
                "as_of": s.occurred_at.isoformat(),
                "status": status,
                "reason": None if pct is not None else "the update carries no progress",
                "evidence": _ev("okr_progress", updates, OKR_LOOKBACK_DAYS),
            }
        )
    on_track = sum(1 for i in items if i["status"] is verdict.Band.HEALTHY)
    return {
        "available": True,
        "items": items[:MAX_ROWS],
        "summary": f"{on_track} of {len(items)} key results on track for the time elapsed",
        "evidence": _ev("okr_progress", rows, OKR_LOOKBACK_DAYS),
    }
