"""The rows delivered with an `infra_cost_per_active_unit` run: this month's and the previous
month's cost, MAU and cost per MAU, and the change — the very numbers the run's value is made of
(runs/formulas_unit_cost.py), from the rows the run read."""

from __future__ import annotations

from typing import Any

from companyos.runs.formula_base import accumulate
from companyos.runs.formulas_unit_cost import COST_KIND, fold_unit_cost, infra_cost_per_active_unit
from companyos.runs.rows import RowsContext, Signals, evidence_of, register

ACTIVITY = ("product_daily", "product_active", "product_session", "feature_used")


def _evidence(signals: Signals, days: int) -> dict[str, Any]:
    parts = []
    for kind in (COST_KIND, *ACTIVITY):
        rows = list(signals.get(kind, ()))
        if rows:
            source = "lake" if kind == COST_KIND else rows[0].source or "analytics"
            parts.append((f"{source}.{kind}", len(rows), max(s.occurred_at for s in rows)))
    return evidence_of(parts, days)


def _unit_cost_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    buckets, _ = accumulate(fold_unit_cost(signals, ctx.params))
    out = infra_cost_per_active_unit(buckets, ctx.as_of.date(), days)
    if out.detail is None:
        return {"unit_cost": {"available": False, "reason": out.reason or "no cost per active user"}}
    d = out.detail
    items = [
        {"id": "cost", "label": "Cloud cost, month to date", "unit": "usd", "value": d["cost"],
         "previous": d["previous_cost"]},
        {"id": "mau", "label": "Monthly active users, month to date", "unit": "count", "value": d["mau"],
         "previous": d["previous_mau"]},
        {"id": "cost_per_unit", "label": "Cost per active user", "unit": "usd_per_mau",
         "value": d["cost_per_unit"], "previous": d["previous_cost_per_unit"]},
        {"id": "change", "label": "Change, month over month", "unit": "percent_change",
         "value": d["change_pct"], "previous": None},
    ]  # fmt: skip
    return {
        "unit_cost": {
            "available": True,
            "through": d["through"],
            "previous_through": d["previous_through"],
            "items": items,
            "summary": f"{d['cost_per_unit']:.4f} USD per active user to {d['through']}"
            f" ({d['change_pct']:+.1f}% vs {d['previous_cost_per_unit']:.4f} to {d['previous_through']})",
            "evidence": _evidence(signals, days),
        }
    }


register("infra_cost_per_active_unit", _unit_cost_rows)
