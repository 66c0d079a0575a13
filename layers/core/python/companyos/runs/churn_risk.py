"""Accounts at risk of churn, from the Stripe subscriptions as their events show them
(`subscription_state` signals, sources/stripe.py).

At risk, in Stripe's own terms: a live subscription with `cancel_at_period_end: true` (the customer
scheduled its cancellation for the end of the period: voluntary churn ahead) or in status
`past_due` / `unpaid` (a renewal payment failed: involuntary churn risk). A deleted (`canceled`)
subscription is no longer at risk: it churned, and the MRR movements count it.

Per subscription, the newest state at or before the run's `as_of` decides; `since` is the time of
the first event of the subscription's current at-risk streak (the event that first showed it at
risk, with any reason, since it last was not). Per customer (Stripe bills a customer in one
currency):

* `mrr`: the list MRR of its live subscriptions (active, past_due, unpaid: priced as if paid up;
  trialing, incomplete and paused ones bill nothing yet), in the currency's major unit;
* `mrr_at_risk`: the part of it on the at-risk subscriptions;
* `reasons`: every reason of its at-risk subscriptions; `since`: the earliest of their streaks;
  `ends_at`: the earliest scheduled cancellation (`cancel_at`, else `current_period_end`).

Enterprise (neither spec defines it: exec-cockpit-spec names `enterprise_accounts_at_risk`, the
health model's cohorts only say "e.g. Enterprise, SMB, Free"): a customer whose `mrr` is at or above
`enterprise_mrr_min`, a param of the contract delivering the rows (net_revenue_retention; a tenant
changes it by publishing its own contract version). Amounts are compared as they are, without
currency conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from companyos.runs.formula_base import SignalRow

KIND = "subscription_state"
AT_RISK_STATUSES = ("past_due", "unpaid")
BILLING_STATUSES = ("active", "past_due", "unpaid")  # a list MRR counts toward the customer's
ENDED_STATUSES = ("canceled", "incomplete_expired")
DEFAULT_ENTERPRISE_MRR_MIN = 1000.0
REASON_TEXT = {
    "cancel_at_period_end": "cancellation scheduled",
    "past_due": "payment past due",
    "unpaid": "unpaid",
}


@dataclass(frozen=True)
class AtRiskAccount:
    customer: str
    mrr: float
    mrr_at_risk: float
    currency: str | None
    reasons: tuple[str, ...]
    since: datetime
    ends_at: datetime | None
    subscriptions: tuple[str, ...]
    enterprise: bool


def reasons_of(attrs: Mapping[str, Any]) -> tuple[str, ...]:
    """Why one subscription state is at risk (empty: it is not)."""
    status = attrs.get("status")
    if status in ENDED_STATUSES:
        return ()
    out = ["cancel_at_period_end"] if attrs.get("cancel_at_period_end") is True else []
    if status in AT_RISK_STATUSES:
        out.append(str(status))
    return tuple(out)


def enterprise_mrr_min(params: Mapping[str, Any]) -> float:
    value = params.get("enterprise_mrr_min", DEFAULT_ENTERPRISE_MRR_MIN)
    return (
        float(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else DEFAULT_ENTERPRISE_MRR_MIN
    )


def latest_states(rows: Iterable[SignalRow], as_of: datetime) -> dict[str, tuple[SignalRow, datetime | None]]:
    """Per subscription: its newest state at or before `as_of`, and the start of its at-risk streak
    (None when that state is not at risk)."""
    out: dict[str, tuple[SignalRow, datetime | None]] = {}
    for s in sorted((r for r in rows if r.occurred_at <= as_of), key=lambda r: (r.occurred_at, r.signal_id)):
        sub = str(s.attributes.get("subscription_id") or s.signal_id)
        before = out.get(sub)
        if not reasons_of(s.attributes):
            out[sub] = (s, None)
        else:
            out[sub] = (s, before[1] if before is not None and before[1] is not None else s.occurred_at)
    return out


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def _ends(attrs: Mapping[str, Any]) -> datetime | None:
    if attrs.get("cancel_at_period_end") is not True and not attrs.get("cancel_at"):
        return None
    at = attrs.get("cancel_at") or attrs.get("current_period_end")
    return datetime.fromtimestamp(float(at), UTC) if isinstance(at, int | float) else None


def accounts_at_risk(rows: Iterable[SignalRow], as_of: datetime, mrr_min: float) -> list[AtRiskAccount]:
    """The customers with at least one subscription at risk: enterprise first, then by MRR."""
    by_customer: dict[str, list[tuple[SignalRow, datetime | None]]] = {}
    for state in latest_states(rows, as_of).values():
        by_customer.setdefault(str(state[0].attributes.get("account_id")), []).append(state)
    out = []
    for customer, states in by_customer.items():
        risky = [(s, since) for s, since in states if since is not None]
        if not risky:
            continue
        live = [s for s, _ in states if s.attributes.get("status") in BILLING_STATUSES]
        mrr = round(sum(_num(s.attributes.get("list_mrr")) for s in live), 2)
        ends = [e for e in (_ends(s.attributes) for s, _ in risky) if e is not None]
        out.append(
            AtRiskAccount(
                customer=customer,
                mrr=mrr,
                mrr_at_risk=round(sum(_num(s.attributes.get("list_mrr")) for s, _ in risky), 2),
                currency=next(
                    (str(s.attributes["currency"]) for s, _ in states if s.attributes.get("currency")), None
                ),
                reasons=tuple(dict.fromkeys(r for s, _ in risky for r in reasons_of(s.attributes))),
                since=min(since for _, since in risky if since is not None),
                ends_at=min(ends) if ends else None,
                subscriptions=tuple(sorted(str(s.attributes.get("subscription_id")) for s, _ in risky)),
                enterprise=mrr >= mrr_min,
            )
        )
    return sorted(out, key=lambda a: (not a.enterprise, -a.mrr, a.customer))
