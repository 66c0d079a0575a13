"""Infra cost per active unit (kpi-health-model.md "Financials": monthly cloud cost / MAU).

* **Cost**: the month-to-date amortized CUR 2.0 cost, the very query of `infra_cost_mtd`
  (runs/packs/cost-contracts-v1.yaml, CostQuery's SQL): daily rows (`day`, `cost`) of the lake
  source `cur2`, handed to this builtin by the source step (`sourcing.lake_signal_rows`).
* **MAU** (monthly active users): distinct users with any analytics activity (`product_active`,
  `product_session`, `feature_used`) from the 1st of the calendar month to the day — the same
  calendar window as the cost, so the two are comparable. It is a day record's `mtd_users`
  (runs/formulas_product.py `day_rollups`): from the raw events for days not rolled up yet, from the
  `product_daily` rollup for older days (raw telemetry is kept 30 days; last month's days are read
  from their rollups).
* **Value**: the month-over-month change in percent (unit percent_change, the seed's thresholds:
  decreasing = on target, +10 % = critical) of cost / MAU month to date, against the previous month
  to the same day. CUR lags usage by a day or two, so both months end at the newest day the export
  has cost for (`through`), and the previous month at the same day of its month.

A month whose telemetry covers fewer than half of its days to `through`, a month without cost rows
or with 0 active users, is Unknown with the reason (no number is made up from partial data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from companyos.runs import formulas_product as product  # a module: it may be importing us (formulas.py)
from companyos.runs.formula_base import (
    Buckets,
    Builtin,
    Folded,
    Outcome,
    Params,
    SignalRow,
    same_day_last_month,
)
from companyos.runs.formulas import register

COST_KIND = "cur2"  # the contract's lake source kind: its daily rows reach the fold under this kind


@dataclass(frozen=True)
class MonthLevel:
    """One month to date: its cost, its MAU, cost per MAU, the last day counted."""

    start: date
    through: date
    cost: float
    mau: float

    @property
    def per_unit(self) -> float:
        return self.cost / self.mau


def fold_unit_cost(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`cur2` daily rows (cost) and the product day records (mtd_users) per day."""
    for s in signals.get(COST_KIND, ()):
        cost = s.attributes.get("cost")
        if isinstance(cost, int | float | Decimal) and not isinstance(cost, bool):
            yield s.occurred_at.date(), {"cost": float(cost), "cost_days": 1.0}
    for day, record in product.fold_product(signals, params):
        users = record.get("mtd_users")
        if isinstance(users, int | float):
            yield day, {"mtd_users": float(users), "telemetry_days": 1.0}


def _counter(buckets: Buckets, day: date, key: str) -> float | None:
    val = buckets.get(day.isoformat(), {}).get(key)
    return float(val) if isinstance(val, int | float) else None


def month_level(buckets: Buckets, end: date) -> tuple[MonthLevel | None, str | None]:
    """Cost and MAU of `end`'s month from its 1st to the newest day with cost, up to `end`."""
    start = end.replace(day=1)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    costed = [d for d in days if _counter(buckets, d, "cost_days")]
    if not costed:
        return None, f"the CUR export has no cost for {start.isoformat()}..{end.isoformat()}"
    through = max(costed)
    cost = sum(_counter(buckets, d, "cost") or 0.0 for d in days if d <= through)
    users = [(d, v) for d in days if d <= through and (v := _counter(buckets, d, "mtd_users")) is not None]
    span = f"{start.isoformat()}..{through.isoformat()}"
    if len(users) < max(1.0, product.MIN_COVERAGE * through.day):
        return None, f"product telemetry covers {len(users)} of the {through.day} days {span}"
    mau = users[-1][1]  # distinct users since the 1st, as of the last active day
    if mau <= 0:
        return None, f"no active users in {span}"
    return MonthLevel(start, through, cost, mau), None


def infra_cost_per_active_unit(buckets: Buckets, end: date, days: int) -> Outcome:
    """% change of month-to-date cost per MAU against the previous month to the same day."""
    cur, why = month_level(buckets, end)
    if cur is None:
        return Outcome(None, why)
    prev_end = same_day_last_month(cur.through)
    prev, why = month_level(buckets, prev_end)
    if prev is None:
        return Outcome(None, f"no previous month to compare: {why}")
    if prev.through != prev_end:
        return Outcome(None, f"no previous month to compare: the CUR export has no cost for {prev_end}")
    change = product.month_over_month(cur.per_unit, prev.per_unit)
    detail = {
        "through": cur.through.isoformat(),
        "cost": round(cur.cost, 6),
        "mau": cur.mau,
        "cost_per_unit": cur.per_unit,
        "previous_through": prev.through.isoformat(),
        "previous_cost": round(prev.cost, 6),
        "previous_mau": prev.mau,
        "previous_cost_per_unit": prev.per_unit,
        "change_pct": change,
    }
    return Outcome(change, None, detail)


register("infra_cost_per_active_unit", Builtin(fold_unit_cost, infra_cost_per_active_unit))
