"""Built-in formulas of the finance-fed KPIs: Gross Margin and CAC Payback Period (contracts in
runs/packs/finance-contracts-v1.yaml). Registered with `runs.formulas` on import.

Both have a month grain: a period's value is over the last closed calendar months before its end
(a month is closed once its last day is inside the window): 7 and 28 days read the last closed
month, 90 days the last 3, 365 days the last 12. Every month of the window must have its inputs,
else the value is Unknown naming the month and what is missing.

Inputs, folded onto the month's first day:

* `finance_month` (the finance upload, sources/finance.py): the newest upload of a month (largest
  `as_of`) wins; its currency, revenue (optional), COGS lines, sales & marketing spend, new customers.
* `revenue_event` (Stripe, sources/stripe.py): the month's revenue when the upload has none =
  invoices paid - refunds, in the upload's currency. One invoice counts once (invoice.paid and
  invoice.payment_succeeded both arrive); a refund's newest event decides its status (failed or
  canceled refunds count nothing).
* `cur2` (the tenant's CUR 2.0 export through the lake, the same amortized daily SQL as
  infra_cost_mtd's, i.e. `CostQuery.daily_sql("amortized")`): the month's AWS cost, counted in COGS.
  A month the export does not cover day by day is Unknown. CUR costs are in USD, so a finance month
  in another currency is Unknown (no exchange rates are kept).
* `billing_event` (our billing format or Stripe subscriptions): the month's new MRR, the `new`
  movements of `formulas_billing.fold_billing` (an account going from no MRR to some).

    gross margin = (revenue - COGS lines - CUR cost) / revenue x 100
    CAC payback  = sales & marketing spend / (new MRR x gross margin / 100)   [months]

over the months of the window (sums of each input, then the ratio).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from companyos.runs import formulas
from companyos.runs.formula_base import Buckets, Builtin, Counter, Folded, Outcome, Params, SignalRow
from companyos.runs.formulas_billing import fold_billing

CUR_CURRENCY = "USD"
VOID_REFUNDS = frozenset({"failed", "canceled"})


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_days(first: date) -> int:
    return calendar.monthrange(first.year, first.month)[1]


def latest_uploads(rows: Sequence[SignalRow]) -> dict[str, SignalRow]:
    """The newest `finance_month` signal of each period (largest as_of, then signal id)."""
    newest: dict[str, SignalRow] = {}
    for s in rows:
        period = s.attributes.get("period")
        if not isinstance(period, str):
            continue
        key = (str(s.attributes.get("as_of") or ""), s.signal_id)
        cur = newest.get(period)
        if cur is None or key > (str(cur.attributes.get("as_of") or ""), cur.signal_id):
            newest[period] = s
    return newest


def latest_revenue(rows: Sequence[SignalRow]) -> list[SignalRow]:
    """One `revenue_event` per invoice / refund: the newest Stripe event of each."""
    newest: dict[tuple[str, str], SignalRow] = {}
    for s in rows:
        a = s.attributes
        key = (str(a.get("type")), str(a.get("object_id")))
        cur = newest.get(key)
        if cur is None or (float(a.get("event_created") or 0), s.signal_id) > (
            float(cur.attributes.get("event_created") or 0),
            cur.signal_id,
        ):
            newest[key] = s
    return list(newest.values())


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _uploads(rows: Sequence[SignalRow]) -> Folded:
    for period, s in latest_uploads(rows).items():
        a = s.attributes
        counters: dict[str, Counter] = {
            f"currency|{a.get('currency')}": 1.0,
            "finance_months": 1.0,
            "cogs": _num(a.get("cogs_total")) or 0.0,
            "sales_marketing": _num(a.get("sales_marketing")) or 0.0,
            "new_customers": _num(a.get("new_customers")) or 0.0,
        }
        if _num(a.get("revenue")) is not None:
            counters["revenue_reported"] = float(a["revenue"])
        yield date.fromisoformat(f"{period}-01"), counters


def _stripe_revenue(rows: Sequence[SignalRow]) -> Folded:
    for s in latest_revenue(rows):
        a, amount = s.attributes, _num(s.attributes.get("amount"))
        if amount is None:
            continue
        month = month_start(s.occurred_at.date())
        if a.get("type") == "invoice":
            yield month, {f"invoiced|{a.get('currency')}": amount}
        elif a.get("type") == "refund" and a.get("status") not in VOID_REFUNDS:
            yield month, {f"refunded|{a.get('currency')}": amount}


def fold_finance(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """finance_month, revenue_event, cur2 lake rows and billing_event -> month counters (module doc)."""
    yield from _uploads(signals.get("finance_month", ()))
    yield from _stripe_revenue(signals.get("revenue_event", ()))
    for s in signals.get("cur2", ()):
        cost = _num(s.attributes.get("cost"))
        if cost is not None:
            yield month_start(s.occurred_at.date()), {"infra_cost": cost, "infra_days": 1.0}
    for day, counters in fold_billing(signals, params):
        new = counters.get("new")
        if isinstance(new, float | int):
            yield month_start(day), {"new_mrr": float(new)}


def closed_months(end: date, days: int) -> list[date]:
    """The first days of the window's months, newest first (module doc)."""
    n = max(1, round(days / 30.4))
    last = (
        month_start(end)
        if (end + timedelta(days=1)).day == 1
        else month_start(month_start(end) - timedelta(1))
    )
    months = [last]
    while len(months) < n:
        months.append(month_start(months[-1] - timedelta(days=1)))
    return months


@dataclass(frozen=True)
class Month:
    period: str
    currency: str
    revenue: float
    revenue_from: str  # "upload" / "stripe"
    cogs: float
    infra_cost: float
    sales_marketing: float
    new_customers: float
    new_mrr: float
    stripe_invoiced: float = 0.0  # Stripe invoices paid / refunds of the month, in its currency
    stripe_refunded: float = 0.0


def _num_of(counters: Mapping[str, Any], key: str) -> float:
    v = counters.get(key, 0.0)
    return float(v) if isinstance(v, float | int) else 0.0


def _revenue(period: str, counters: Mapping[str, Any], currency: str) -> tuple[float, str] | str:
    if "revenue_reported" in counters:
        return _num_of(counters, "revenue_reported"), "upload"
    stripe = {k.partition("|")[2] for k in counters if k.startswith(("invoiced|", "refunded|"))}
    if not stripe:
        return f"{period}: the finance upload has no revenue and no Stripe invoice was paid that month"
    if stripe != {currency}:
        return (
            f"{period}: the finance upload has no revenue and Stripe's is in {', '.join(sorted(stripe))},"
            f" not {currency} (no exchange rates are kept)"
        )
    return _num_of(counters, f"invoiced|{currency}") - _num_of(counters, f"refunded|{currency}"), "stripe"


def month_figures(buckets: Buckets, first: date) -> Month | str:
    """One closed month's inputs, or the reason it cannot be used."""
    period, counters = first.isoformat()[:7], buckets.get(first.isoformat(), {})
    if not _num_of(counters, "finance_months"):
        return f"no finance upload for {period}"
    currency = next(k.partition("|")[2] for k in counters if k.startswith("currency|"))
    if currency != CUR_CURRENCY:
        return (
            f"{period}: the finance upload is in {currency}, the CUR cost in {CUR_CURRENCY} (no rates kept)"
        )
    covered, days = int(_num_of(counters, "infra_days")), month_days(first)
    if covered < days:
        return f"{period}: the CUR export covers {covered} of its {days} days (its AWS cost is part of COGS)"
    revenue = _revenue(period, counters, currency)
    if isinstance(revenue, str):
        return revenue
    return Month(
        period,
        currency,
        revenue[0],
        revenue[1],
        _num_of(counters, "cogs"),
        _num_of(counters, "infra_cost"),
        _num_of(counters, "sales_marketing"),
        _num_of(counters, "new_customers"),
        _num_of(counters, "new_mrr"),
        _num_of(counters, f"invoiced|{currency}"),
        _num_of(counters, f"refunded|{currency}"),
    )


def window_months(buckets: Buckets, end: date, days: int) -> list[Month] | Outcome:
    got = [month_figures(buckets, m) for m in closed_months(end, days)]
    missing = [g for g in got if isinstance(g, str)]
    if missing:
        return Outcome(None, "; ".join(missing[:3]))
    return [g for g in got if isinstance(g, Month)]


def _margin(months: Sequence[Month]) -> tuple[float, float, float] | None:
    revenue = sum(m.revenue for m in months)
    cost = sum(m.cogs + m.infra_cost for m in months)
    return (revenue, cost, 100.0 * (revenue - cost) / revenue) if revenue > 0 else None


def _detail(months: Sequence[Month]) -> dict[str, Any]:
    return {
        "months": [m.period for m in months],
        "currency": months[0].currency,
        "revenue": round(sum(m.revenue for m in months), 2),
        "revenue_from": sorted({m.revenue_from for m in months}),
        "cogs_lines": round(sum(m.cogs for m in months), 2),
        "infra_cost": round(sum(m.infra_cost for m in months), 2),
        "sales_marketing": round(sum(m.sales_marketing for m in months), 2),
        "new_customers": sum(m.new_customers for m in months),
        "new_mrr": round(sum(m.new_mrr for m in months), 2),
    }


def gross_margin(buckets: Buckets, end: date, days: int) -> Outcome:
    """(revenue - COGS lines - CUR cost) / revenue x 100 over the window's closed months."""
    months = window_months(buckets, end, days)
    if isinstance(months, Outcome):
        return months
    margin = _margin(months)
    if margin is None:
        return Outcome(None, f"no revenue in {', '.join(m.period for m in months)}")
    return Outcome(margin[2], detail=_detail(months))


def cac_payback_period(buckets: Buckets, end: date, days: int) -> Outcome:
    """Sales & marketing spend / (new MRR x gross margin), in months, over the window's closed months."""
    months = window_months(buckets, end, days)
    if isinstance(months, Outcome):
        return months
    periods = ", ".join(m.period for m in months)
    margin = _margin(months)
    if margin is None:
        return Outcome(None, f"no revenue in {periods}: no gross margin to pay acquisition back")
    if margin[2] <= 0:
        return Outcome(
            None, f"gross margin {margin[2]:.1f} % in {periods}: acquisition cost is never paid back"
        )
    new_mrr = sum(m.new_mrr for m in months)
    if new_mrr <= 0:
        return Outcome(None, f"no new MRR in {periods} (no subscription started in billing or Stripe)")
    spend = sum(m.sales_marketing for m in months)
    return Outcome(
        spend / (new_mrr * margin[2] / 100.0), detail=_detail(months) | {"gross_margin": margin[2]}
    )


formulas.register("gross_margin", Builtin(fold_finance, gross_margin))
formulas.register("cac_payback_period", Builtin(fold_finance, cac_payback_period))
