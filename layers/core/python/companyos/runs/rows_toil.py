"""The rows delivered with a `toil_ratio` run: ops time by category (which rule made it toil) and
by team, over the period, from the very entries the run read and by the same rule
(runs/formulas_toil.py `classified`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from companyos.runs.formulas_toil import Classified, classified
from companyos.runs.rows import MAX_ROWS, RowsContext, Signals, evidence_of, register


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def _grouped(items: list[Classified], key: str) -> list[dict[str, Any]]:
    total: dict[str, float] = defaultdict(float)
    toil: dict[str, float] = defaultdict(float)
    for c in items:
        total[getattr(c, key)] += c.seconds
        toil[getattr(c, key)] += c.seconds if c.toil else 0.0
    ranked = sorted(total, key=lambda k: (-total[k], k))[:MAX_ROWS]
    return [
        {
            "id": k,
            "label": k,
            "hours": _hours(total[k]),
            "toil_hours": _hours(toil[k]),
            "toil_pct": round(100.0 * toil[k] / total[k], 1) if total[k] else None,
        }
        for k in ranked
    ]


def _toil_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    first = ctx.as_of.date() - timedelta(days=days - 1)
    items = [c for c in classified(signals, ctx.params) if first <= c.day <= ctx.as_of.date()]
    if not items:
        return {"toil": {"available": False, "reason": f"no ops time tracked in the last {days} days"}}
    total = sum(c.seconds for c in items)
    toil = sum(c.seconds for c in items if c.toil)
    parts = []
    for kind in ("ops_time", "incident"):
        rows = list(signals.get(kind, ()))
        if rows and (kind == "ops_time" or ctx.params.get("pagerduty_interrupts") is True):
            parts.append((f"{rows[0].source or kind}.{kind}", len(rows), max(s.occurred_at for s in rows)))
    return {
        "toil": {
            "available": True,
            "window_days": days,
            "ops_hours": _hours(total),
            "toil_hours": _hours(toil),
            "toil_pct": 100.0 * toil / total if total else None,
            "by_category": _grouped(items, "category"),
            "by_team": _grouped(items, "team"),
            "summary": f"{_hours(toil):g} of {_hours(total):g} ops hours were toil in {days} days",
            "evidence": evidence_of(parts, days),
        }
    }


register("toil_ratio", _toil_rows)
