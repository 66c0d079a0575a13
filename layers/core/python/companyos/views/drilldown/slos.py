"""Service → SLO: one service's SLO over the period, per day, its burn rate over the alert windows
and the multiwindow burn-rate alerts that fire on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.domain import slo, verdict
from companyos.runs.formulas_slo import recent_counts
from companyos.views import panels_data
from companyos.views.drilldown.base import unavailable

# The SRE workbook's alert windows (model.slo.burn_rules), the 1d one the table also shows.
BURN_WINDOWS = slo.WINDOW_SECONDS


def service_slo(tenant_id: str, name: str, days: int, now: datetime) -> dict[str, Any]:
    """One service's SLO over the period (the SLO table's row, folded the same way), per day,
    its burn rate over the alert windows the pulled series can cover, and the SRE workbook's
    multiwindow burn-rate alerts (model.slo) that fire on them."""
    rows = [
        s
        for s in panels_data.signals(tenant_id, panels_data.SLO_KIND, days, now)
        if (s.service or s.entity) == name
    ]
    counts = panels_data.slo_counts(rows).get(name)
    if counts is None:
        return unavailable(
            f"no Prometheus SLO windows (slo_window slo_good/slo_total) for {name} in the last {days} days"
        )
    objective = panels_data.slo_objective()
    good, total = counts["good"], counts["total"]
    attainment = slo.attainment(good, total)
    attainment_pct = None if attainment is None else 100.0 * attainment
    budget_left = slo.error_budget_remaining(good, total, objective)
    burn_rate = slo.burn_rate(good, total, objective)
    windows = {label: recent_counts(rows, seconds) for label, seconds in BURN_WINDOWS.items()}
    known = {k: (w["good"], w["total"]) for k, w in windows.items() if w is not None}
    period = slo.DEFAULT_PERIOD_DAYS
    alerts = slo.multiwindow_alerts(known, objective, period)
    blind = [
        f"{r.severity} {r.long_window}/{r.short_window}"
        for r in slo.burn_rules(period)
        if r.long_window not in known or r.short_window not in known
    ]
    return {
        "available": True,
        "reason": None,
        "objective": objective,
        "slo_period_days": period,
        "burn_factors": {f"{r.long_window}/{r.short_window}": r.burn_rate for r in slo.burn_rules(period)},
        "window_days": days,
        "good": good,
        "total": total,
        "attainment": attainment_pct,
        "budget_left": budget_left,
        "burn_rate": burn_rate,
        "status": verdict.slo_row(attainment_pct, budget_left),  # the SLO table's row rule
        "burn_status": verdict.burn(burn_rate),
        "days": [_slo_day(day, g, t, objective) for day, g, t in counts["points"]],
        "burn_windows": [
            _burn_window(label, w, objective)
            if w is not None
            else {
                "window": label,
                "burn_rate": None,
                "status": verdict.Band.UNKNOWN,
                "reason": f"no complete {label} of windows pulled",
            }
            for label, w in windows.items()
        ],
        "alerts": [a.model_dump(mode="json") for a in alerts],
        "alerts_not_evaluated": blind,
        "evidence": panels_data.evidence_of(
            [
                (
                    f"prometheus.{panels_data.SLO_KIND}",
                    len(counts["signals"]),
                    max(s.occurred_at for s in counts["signals"]),
                )
            ],
            days,
        ),
    }


def _slo_day(day: Any, good: float, total: float, objective: float) -> dict[str, Any]:
    attainment = 100.0 * good / total if total else None
    budget = slo.error_budget_remaining(good, total, objective)
    return {
        "day": day.isoformat(),
        "good": good,
        "total": total,
        "attainment": attainment,
        "burn_rate": slo.burn_rate(good, total, objective),
        "status": verdict.slo_row(attainment, budget),
    }


def _burn_window(label: str, w: dict[str, Any], objective: float) -> dict[str, Any]:
    rate = slo.burn_rate(w["good"], w["total"], objective)
    return {"window": label, **w, "burn_rate": rate, "status": verdict.burn(rate)}
