"""Breakdown rows of the finance-fed runs, from the very rows the run read:

* gross_margin → `finance_inputs`: per closed month of the period, revenue (and where it came
  from), every COGS line of the upload, the month's AWS cost from the CUR export, the margin.
* cac_payback_period → `cac_inputs`: per month, sales & marketing spend, new customers, new MRR,
  CAC per new customer, gross margin and the payback it gives.
* net_revenue_retention / arr_growth_rate → `revenue_movements`: the period's MRR movements by type
  (new, expansion, contraction, churn) with the customers that moved most. Stripe refunds are
  revenue, not MRR: they show in `finance_inputs` (the month's revenue net of them).
* net_revenue_retention → also `accounts_at_risk`: one row per customer with a Stripe subscription
  at risk of churn as of the run (runs/churn_risk.py: cancellation scheduled, past due, unpaid),
  with its MRR, reasons and since when, enterprise first; and per segment (enterprise: MRR at or
  above the contract's `enterprise_mrr_min`; other) the count of such accounts and their MRR, which
  the CEO's ChurnRiskAlert reads (`segments[id=enterprise].accounts`). The same rows for every
  period: it is the state at the run's as_of, not a movement of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from companyos.domain import verdict
from companyos.runs import churn_risk
from companyos.runs import formulas_finance as ff
from companyos.runs.formula_base import accumulate
from companyos.runs.formulas_billing import movements
from companyos.runs.rows import (
    MAX_ROWS,
    RowsContext,
    Signals,
    _parts,
    _unavailable,
    evidence_of,
    register,
    window_start,
)

MOVE_KINDS = (("new", "New"), ("expansion", "Expansion"), ("contraction", "Contraction"), ("churn", "Churn"))


def _evidence(signals: Signals, kinds: Sequence[str], days: int) -> dict[str, Any]:
    """Every source the run read for these rows (`<source>.<kind>`, count, newest)."""
    return evidence_of([p for kind in kinds if signals.get(kind) for p in _parts(kind, signals[kind])], days)


def _month_rows(signals: Signals, ctx: RowsContext, days: int) -> tuple[list[ff.Month | str], list[date]]:
    buckets, _ = accumulate(ff.fold_finance(signals, ctx.params))
    months = ff.closed_months(ctx.as_of.date(), days)
    return [ff.month_figures(buckets, m) for m in months], months


def _cogs_lines(signals: Signals, period: str) -> list[dict[str, Any]]:
    upload = ff.latest_uploads(signals.get("finance_month", ())).get(period)
    lines = (upload.attributes.get("cogs_lines") if upload else None) or []
    return [{"name": str(c.get("name")), "amount": c.get("amount")} for c in lines if isinstance(c, dict)]


def _per_month(
    signals: Signals,
    ctx: RowsContext,
    days: int,
    kinds: tuple[str, ...],
    fields: Callable[[ff.Month], dict[str, Any]],
) -> dict[str, Any]:
    """One entry per closed month of the period: its `fields`, or why the month cannot be used."""
    got, months = _month_rows(signals, ctx, days)
    items: list[dict[str, Any]] = []
    for first, m in zip(months, got, strict=True):
        if isinstance(m, str):
            items.append({"period": first.isoformat()[:7], "available": False, "reason": m})
        else:
            items.append({"period": m.period, "available": True, "currency": m.currency, **fields(m)})
    if not any(i["available"] for i in items):
        return _unavailable(str(items[0]["reason"]))
    return {
        "available": True,
        "window_days": days,
        "months": items,
        "evidence": _evidence(signals, kinds, days),
    }


def _margin_of(m: ff.Month) -> float | None:
    return 100.0 * (m.revenue - m.cogs - m.infra_cost) / m.revenue if m.revenue > 0 else None


def _finance_inputs(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    def fields(m: ff.Month) -> dict[str, Any]:
        lines = [
            *_cogs_lines(signals, m.period),
            {"name": "AWS (CUR 2.0, amortized)", "amount": round(m.infra_cost, 2)},
        ]
        return {
            "revenue": round(m.revenue, 2),
            "revenue_from": m.revenue_from,
            "stripe_invoiced": round(m.stripe_invoiced, 2),
            "stripe_refunds": round(m.stripe_refunded, 2),
            "cogs_lines": lines[:MAX_ROWS],
            "cogs": round(m.cogs + m.infra_cost, 2),
            "gross_margin": _margin_of(m),
        }

    kinds = ("finance_month", "revenue_event", "cur2")
    return {"finance_inputs": _per_month(signals, ctx, days, kinds, fields)}


def _cac_fields(m: ff.Month) -> dict[str, Any]:
    margin = _margin_of(m)
    paid_back = margin is not None and margin > 0 and m.new_mrr > 0
    return {
        "sales_marketing": round(m.sales_marketing, 2),
        "new_customers": m.new_customers,
        "new_mrr": round(m.new_mrr, 2),
        "cac": round(m.sales_marketing / m.new_customers, 2) if m.new_customers else None,
        "gross_margin": margin,
        "payback_months": m.sales_marketing / (m.new_mrr * (margin or 0.0) / 100.0) if paid_back else None,
    }


def _cac_inputs(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    kinds = ("finance_month", "billing_event", "revenue_event", "cur2")
    return {"cac_inputs": _per_month(signals, ctx, days, kinds, _cac_fields)}


def _movements(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    rows = list(signals.get("billing_event", ()))
    since = window_start(ctx.as_of, days).date()
    moved = [m for m in movements(rows) if m.day >= since and m.kind in dict(MOVE_KINDS)]
    if not moved:
        return {"revenue_movements": _unavailable(f"no MRR movement in the last {days} days")}
    items = []
    for kind, label in MOVE_KINDS:
        of_kind = [m for m in moved if m.kind == kind]
        per: dict[str, float] = {}
        for m in of_kind:
            per[m.account] = per.get(m.account, 0.0) + m.amount
        top = sorted(per.items(), key=lambda kv: kv[1], reverse=True)[:5]
        items.append(
            {
                "id": kind,
                "label": label,
                "mrr": round(sum(per.values()), 2),
                "customers": len(per),
                "top": [{"customer": c, "mrr": round(v, 2)} for c, v in top],
            }
        )
    return {
        "revenue_movements": {
            "available": True,
            "window_days": days,
            "items": items,
            "net_new_mrr": round(
                sum(m.amount * (1 if m.kind in ("new", "expansion") else -1) for m in moved), 2
            ),
            "evidence": _evidence(signals, ("billing_event",), days),
        }
    }


def _money(amount: float, currency: str | None) -> str:
    return f"{amount:,.0f} {currency or ''}".strip()


def _at_risk_item(a: churn_risk.AtRiskAccount) -> dict[str, Any]:
    reason = ", ".join(churn_risk.REASON_TEXT.get(r, r) for r in a.reasons)
    return {
        "id": a.customer,
        "customer": a.customer,
        "segment": "enterprise" if a.enterprise else "other",
        "enterprise": a.enterprise,
        "mrr": a.mrr,
        "mrr_at_risk": a.mrr_at_risk,
        "currency": a.currency,
        "reasons": list(a.reasons),
        "reason": reason,
        "since": a.since.isoformat(),
        "ends_at": a.ends_at.isoformat() if a.ends_at else None,
        "subscriptions": list(a.subscriptions),
        "status": verdict.at_risk_account(a.enterprise),
        "cells": {
            "customer": a.customer,
            "segment": "Enterprise" if a.enterprise else "Other",
            "mrr": _money(a.mrr, a.currency),
            "reason": reason,
            "since": f"{a.since:%-d %b %Y}",  # 1 Dec 2026, as the other delivered tables write days
            "ends": f"{a.ends_at:%-d %b %Y}" if a.ends_at else "—",
        },
    }


def accounts_at_risk(signals: Signals, ctx: RowsContext) -> dict[str, Any]:
    """The `accounts_at_risk` entry of a run (module doc)."""
    rows = [s for s in signals.get(churn_risk.KIND, ()) if s.occurred_at <= ctx.as_of]
    if not rows:
        return _unavailable("no Stripe subscription events yet (subscription_state signals)")
    mrr_min = churn_risk.enterprise_mrr_min(ctx.params)
    found = churn_risk.accounts_at_risk(rows, ctx.as_of, mrr_min)
    segments = []
    for seg, label in (("enterprise", f"Enterprise (MRR ≥ {mrr_min:,.0f})"), ("other", "Other")):
        of_seg = [a for a in found if (seg == "enterprise") == a.enterprise]
        segments.append(
            {
                "id": seg,
                "label": label,
                "accounts": len(of_seg),
                "mrr": round(sum(a.mrr for a in of_seg), 2),
                "mrr_at_risk": round(sum(a.mrr_at_risk for a in of_seg), 2),
            }
        )
    n_ent = segments[0]["accounts"]
    summary = (
        f"{n_ent} enterprise account{'' if n_ent == 1 else 's'} at risk (MRR ≥ {mrr_min:,.0f}),"
        f" {len(found)} in all"
        if found
        else "No account at risk: no subscription has a cancellation scheduled or a payment past due"
    )
    return {
        "available": True,
        "window_days": None,
        "as_of": ctx.as_of.isoformat(),
        "enterprise_mrr_min": mrr_min,
        "columns": [
            {"key": "customer", "label": "Customer"},
            {"key": "segment", "label": "Segment"},
            {"key": "mrr", "label": "MRR", "numeric": True},
            {"key": "reason", "label": "Reason"},
            {"key": "since", "label": "Since"},
            {"key": "ends", "label": "Ends"},
        ],
        "items": [_at_risk_item(a) for a in found[:MAX_ROWS]],
        "total": len(found),
        "segments": segments,
        "summary": summary,
        "evidence": evidence_of(_parts(churn_risk.KIND, rows), None),
    }


def _revenue_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    return {**_movements(signals, ctx, days), "accounts_at_risk": accounts_at_risk(signals, ctx)}


register("gross_margin", _finance_inputs)
register("cac_payback_period", _cac_inputs)
register("net_revenue_retention", _revenue_rows)
register("arr_growth_rate", _movements)
