"""Rows of the Prometheus-fed KPI runs: per-service SLO table, endpoints and service-graph edges
(slo_attainment; the last two in runs/rows_traffic.py), burn per service (error_budget_burn_rate),
capacity (infra_utilization). See runs/rows.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from companyos.domain import slo, verdict
from companyos.runs import rows_traffic
from companyos.runs.formulas import SignalRow
from companyos.runs.formulas_slo import (
    GOOD,
    TOTAL,
    default_objective,
    service_day_windows,
    usable_counts,
    utilisation_samples,
    window_day,
)
from companyos.runs.rows import (
    MAX_ROWS,
    SERIES_POINTS,
    SLO_KIND,
    RowsContext,
    Signal,
    Signals,
    _ev,
    _in,
    _pct,
    _unavailable,
    register,
    window_start,
)


def slo_objective() -> float:
    """The SLO objective as a ratio: the dictionary's `slo_attainment` target (99.9 → 0.999), the
    one the slo_attainment and error_budget_burn_rate runs apply (runs/formulas_slo.py)."""
    return default_objective()


def slo_counts(rows: Sequence[Signal]) -> dict[str, dict[str, Any]]:
    """Per service (the catalog's name, else the series' label): good/total sums over its days,
    each day from the coarsest window length with data that day (never two window lengths added
    together) — the service-days the slo_attainment / error_budget_burn_rate runs fold
    (`formulas_slo.service_days`), with the signals behind them and the per-day points."""
    by_service: dict[str, list[Signal]] = {}
    for s in rows:
        if s.attributes.get("metric") in (GOOD, TOTAL) and s.attributes.get("value") is not None:
            by_service.setdefault(s.service or s.entity or "unmapped", []).append(s)
    named = [
        SignalRow(s.kind, s.signal_id, s.occurred_at, s.attributes, svc)
        for svc, items in by_service.items()
        for s in items
    ]
    chosen = service_day_windows(named)
    out: dict[str, dict[str, Any]] = {}
    for (svc, day), (step, *counts) in sorted(chosen.items()):
        counted = usable_counts(*counts)
        if counted is None:
            continue
        cur = out.setdefault(svc, {"good": 0.0, "total": 0.0, "points": [], "steps": set()})
        cur["good"] += counted[0]
        cur["total"] += counted[1]
        cur["points"].append((day, *counted))
        cur["steps"].add((day, step))

    def day_and_step(s: Signal) -> tuple[Any, int]:
        step = int(s.attributes.get("step_s") or 0)
        return window_day(s.occurred_at, step), step

    for svc, cur in out.items():
        steps = cur.pop("steps")  # evidence: the windows counted, not those a coarser window replaced
        cur["signals"] = [s for s in by_service[svc] if day_and_step(s) in steps]
        widest = max(cur["signals"], key=lambda s: int(s.attributes.get("step_s") or 0))
        cur["window"] = widest.attributes.get("window")
    return out


def _slo_entries(
    tenant_id: str, slo_signals: list[Signal], days: int, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = _in(slo_signals, window_start(now, days))
    counts = slo_counts(rows)
    if not counts:
        why = f"no Prometheus SLO good/total windows (slo_window) ingested in the last {days} days"
        return _unavailable(why), _unavailable(why)
    objective = slo_objective()
    table_items, burn_items = [], []
    for svc, c in sorted(counts.items()):
        att = slo.attainment(c["good"], c["total"])
        budget = slo.error_budget_remaining(c["good"], c["total"], objective)
        burn = slo.burn_rate(c["good"], c["total"], objective)
        ev = _ev(SLO_KIND, c["signals"], days, f"/api/drill/service/{svc}?tenant={tenant_id}")
        att_pct = None if att is None else 100.0 * att
        status = verdict.slo_row(att_pct, budget)  # an overspent budget is Critical
        table_items.append(
            {
                "id": svc,
                "service": svc,
                "cells": {
                    "service": svc,
                    "target": _pct(100.0 * objective, 2),
                    "actual": _pct(att_pct, 3),
                    "budget_left": _pct(None if budget is None else 100.0 * budget),
                    "burn_rate": None if burn is None else f"{burn:.2f}x",
                    "requests": f"{c['total']:,.0f}",
                },
                "objective": objective,
                "value": att_pct,
                "budget_left": budget,
                "burn_rate": burn,
                "good": c["good"],
                "total": c["total"],
                "window": c["window"],
                "status": status,
                "reason": None if att is not None else "no requests in the window",
                "evidence": ev,
                "drill": {"kind": "service", "id": svc},
            }
        )
        series = [
            {"t": at.isoformat(), "v": round(slo.burn_rate(g, t, objective) or 0.0, 4)}
            for at, g, t in c["points"][-SERIES_POINTS:]
            if t > 0
        ]
        burn_items.append(
            {
                "id": svc,
                "label": svc,
                "value": burn,
                "display": None if burn is None else f"{burn:.2f}x",
                "max": max(6.0, burn or 0.0),
                "status": verdict.burn(burn),
                "reason": None if burn is not None else "no requests in the window",
                "series": series,
                "evidence": ev,
            }
        )
    met = sum(1 for i in table_items if i["status"].is_healthy)
    summary = f"{met} of {len(table_items)} services meet the {100 * objective:g}% objective over {days} days"
    columns = [
        {"key": "service", "label": "Service"},
        {"key": "target", "label": "Target", "numeric": True},
        {"key": "actual", "label": "Actual", "numeric": True},
        {"key": "budget_left", "label": "Budget left", "numeric": True},
        {"key": "burn_rate", "label": "Burn rate", "numeric": True},
        {"key": "requests", "label": "Requests", "numeric": True},
    ]
    evidence = _ev(SLO_KIND, rows, days)
    return (
        {"available": True, "window_days": days, "objective": objective, "columns": columns,
         "items": table_items[:MAX_ROWS], "summary": summary, "evidence": evidence},
        {"available": True, "window_days": days, "objective": objective, "items": burn_items[:MAX_ROWS],
         "summary": "error-budget burn rate per service (1x spends the budget exactly over the window)",
         "evidence": evidence},
    )  # fmt: skip


SAMPLE_KIND = "prom_sample"
CAPACITY_DAYS = 1  # the Ops wireframe's "Capacity status": the last 24 hours, whatever the period
CAPACITY_METRICS = {"cpu_utilisation": "CPU", "memory_utilisation": "Memory"}


def _capacity_entry(tenant_id: str, samples: list[Signal], now: datetime) -> dict[str, Any]:
    """Per service and resource (CPU, memory): the latest used share of the limit (usage / limit,
    the samples the infra_utilization run reads), its peak and mean over the last 24 h, and the
    hourly series; the most utilised first."""
    since = now - timedelta(days=CAPACITY_DAYS)
    rows = [s for s in _in(samples, since) if s.attributes.get("metric") in CAPACITY_METRICS]
    by_series: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    signals_of: dict[str, list[Signal]] = {}
    for s in rows:
        signals_of.setdefault(s.service or s.entity or "unmapped", []).append(s)
    named = [
        SignalRow(s.kind, s.signal_id, s.occurred_at, s.attributes, svc)
        for svc, items in signals_of.items()
        for s in items
    ]
    for svc, metric, at, ratio in utilisation_samples(named, tuple(CAPACITY_METRICS)):
        by_series.setdefault((svc, metric), []).append((at, 100.0 * ratio))
    if not by_series:
        return _unavailable(
            "no CPU/memory utilisation samples (prom_sample cpu_utilisation / memory_utilisation) "
            f"pulled from Prometheus in the last {24 * CAPACITY_DAYS} hours"
        )
    items: list[dict[str, Any]] = []
    for (svc, metric), points in by_series.items():
        points.sort()
        at, latest = points[-1]
        values = [v for _, v in points]
        status, reason = verdict.capacity(latest)
        behind = [s for s in signals_of[svc] if s.attributes.get("metric") == metric]
        href = f"/api/drill/service/{svc}?tenant={tenant_id}"
        items.append(
            {
                "id": f"{svc}:{metric}",
                "label": f"{svc} · {CAPACITY_METRICS[metric]}",
                "service": svc,
                "resource": metric,
                "value": round(latest, 1),
                "display": f"{latest:.0f}%",
                "max": 100.0,
                "at": at.isoformat(),
                "peak": round(max(values), 1),
                "mean": round(sum(values) / len(values), 1),
                "status": status,
                "reason": f"{reason}; peak {max(values):.0f}% in 24 h" if reason else None,
                "series": [{"t": t.isoformat(), "v": round(v, 1)} for t, v in points[-SERIES_POINTS:]],
                "evidence": _ev(SAMPLE_KIND, behind, CAPACITY_DAYS, href),
                "drill": {"kind": "service", "id": svc},
            }
        )
    items.sort(key=lambda i: (-i["value"], i["id"]))
    busy = sum(1 for i in items if i["status"].is_bad)
    idle = sum(1 for i in items if i["status"] is verdict.Band.ATTENTION)
    return {
        "available": True,
        "window_days": CAPACITY_DAYS,
        "items": items[:MAX_ROWS],
        "summary": f"{busy} of {len(items)} service resources at or above {verdict.BUSY_PCT:g}% of their"
        " limit, "
        f"{idle} over-provisioned (latest sample of the last 24 h)",
        "evidence": _ev(SAMPLE_KIND, rows, CAPACITY_DAYS),
    }


def _slo_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    windows = list(signals.get(SLO_KIND, ()))
    table, _burn = _slo_entries(ctx.tenant_id, windows, days, ctx.as_of)
    return {
        "slo": table,  # with the endpoints and service-graph edges of the same windows (rows_traffic)
        "endpoints": rows_traffic.endpoint_entry(ctx.tenant_id, windows, days, ctx.as_of),
        "dependencies": rows_traffic.dependency_entry(ctx.tenant_id, windows, days, ctx.as_of),
    }


def _burn_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    _table, burn = _slo_entries(ctx.tenant_id, list(signals.get(SLO_KIND, ())), days, ctx.as_of)
    return {"burn": burn}


def _capacity_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    return {"capacity": _capacity_entry(ctx.tenant_id, list(signals.get(SAMPLE_KIND, ())), ctx.as_of)}


register("slo_attainment", _slo_rows)
register("error_budget_burn_rate", _burn_rows)
register("infra_utilization", _capacity_rows)
