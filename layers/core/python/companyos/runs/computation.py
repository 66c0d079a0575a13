"""The compute step: the contract's formula over every period's window of the buckets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from companyos.domain.errors import NotFound
from companyos.runs import formulas
from companyos.runs.contracts import PERIODS, Contract
from companyos.runs.formula_base import same_day_last_month
from companyos.runs.run_state import State, contract_of

ValueFn = Callable[[Any, date, int], formulas.Outcome]


def value_fn(contract: Contract) -> ValueFn:
    f = contract.formula
    if f.sql is not None:
        return lambda b, end, days: formulas.aggregate(
            b, end, days, f.aggregate, f.column, f.numerator, f.denominator, f.scale
        )
    builtin = formulas.BUILTINS.get(f.builtin or "")
    if builtin is None:
        raise NotFound(f"formula '{f.builtin}' is not registered", code="formula_not_registered")
    return builtin.value


def compute(state: State) -> State:
    contract = contract_of(state)
    formula = value_fn(contract)
    daily = state["inputs"]["daily"]
    end = datetime.fromisoformat(state["run"]["as_of"]).date()
    if contract.window == "month_to_date":
        return {**state, "values": month_to_date(formula, daily, end)}
    values = {}
    for period, days in PERIODS.items():
        cur = formula(daily, end, days)
        prev = formula(daily, end - timedelta(days=days), days)
        values[period] = {
            "value": cur.value,
            "reason": cur.reason,
            "previous": prev.value,
            "series": _series(formula, daily, end, days),
            "time_range": f"{(end - timedelta(days=days - 1)).isoformat()}/{end.isoformat()}",
            **({"detail": dict(cur.detail)} if cur.detail else {}),
        }
    return {**state, "values": values}


def month_to_date(formula: ValueFn, daily: dict, end: date) -> dict[str, Any]:
    """Every period reports the calendar month up to `end`, against the previous month to the same
    day; the series is the month's daily values."""
    prev_end = same_day_last_month(end)
    cur, prev = formula(daily, end, end.day), formula(daily, prev_end, prev_end.day)
    entry = {
        "value": cur.value,
        "reason": cur.reason,
        "previous": prev.value,
        "series": _series(formula, daily, end, end.day),
        "time_range": f"{end.replace(day=1).isoformat()}/{end.isoformat()}",
        **({"detail": dict(cur.detail)} if cur.detail else {}),
    }
    return {period: dict(entry) for period in PERIODS}


def _series(formula: ValueFn, daily: dict, end: date, days: int) -> list[dict[str, Any]]:
    """Daily points for short periods, weekly points (7-day windows) for long ones."""
    step = 1 if days <= 28 else 7
    points = []
    for i in range(days // step - 1, -1, -1):
        point_end = end - timedelta(days=i * step)
        points.append({"t": point_end.isoformat(), "v": formula(daily, point_end, step).value})
    return points
