"""The demo's subscription billing history: four years of start / expand / contract / churn events per
tenant in our billing format (`POST /api/ingest/billing`), from a small monthly simulation.

The numbers are meant to look like a healthy B2B SaaS, not a rocket: each month a paying account
adds a few seats (2-8 %) with probability `expand_p`, removes some with `contract_p`, or churns -
small accounts far more often than large ones (`churn_p` is the monthly churn of the smallest plan,
scaled by the square root of smallest / plan) - and new accounts sign up at a pace that slows over
the years. That gives a yearly NRR a little above 100 % and ARR growth in the single or low double
digits, slowing, so the 7/28/90/365-day values differ.

Deterministic per tenant (its own RNG), independent of the other demo sources.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

HISTORY_MONTHS = 48  # 4 years: the 365-day ARR growth and its previous window need 3
MONTH = timedelta(days=30)
PLANS = ((99.0, 0.20), (299.0, 0.30), (499.0, 0.25), (1500.0, 0.18), (4000.0, 0.07))  # (MRR, share)


@dataclass(frozen=True)
class BillingProfile:
    accounts: int  # paying accounts today, roughly
    expand_p: float = 0.30
    contract_p: float = 0.08
    churn_p: float = 0.012
    expand_by: tuple[float, float] = (1.02, 1.08)  # seats added: MRR x this
    contract_to: tuple[float, float] = (0.90, 0.98)  # seats removed: MRR x this
    # new accounts a month, as a share of today's accounts: at the start of the history, and now
    signups_then: float = 0.020
    signups_now: float = 0.004
    start_share: float = 0.65  # accounts already paying 4 years ago, as a share of today's


@dataclass
class _Account:
    id: str
    mrr: float
    plan: float = 0.0
    seq: int = 0


class _Plans:
    """Plans dealt from shuffled decks of 20 with the PLANS shares, so a small tenant's mix of new
    accounts matches the shares instead of hanging on a few lucky draws of the largest plan."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.deck = rng, list[float]()

    def next(self) -> float:
        if not self.deck:
            self.deck = [plan for plan, share in PLANS for _ in range(round(share * 20))]
            self.rng.shuffle(self.deck)
        return self.deck.pop()


def _event(acct: _Account, kind: str, at: datetime, after: float) -> dict[str, Any]:
    before, acct.mrr = acct.mrr, after
    acct.seq += 1
    return {"id": f"b-{acct.id}-{acct.seq}", "type": kind, "occurred_at": at.astimezone(UTC).isoformat(),
            "account_id": acct.id, "subscription_id": f"sub-{acct.id}", "plan": "growth", "currency": "USD",
            "mrr_before": before, "mrr_after": after}  # fmt: skip


def _moves(
    acct: _Account, profile: BillingProfile, at: datetime, rng: random.Random
) -> dict[str, Any] | None:
    """One account's month: churn, seats removed, seats added, or nothing (None)."""
    roll, churn_p = rng.random(), profile.churn_p * (PLANS[0][0] / acct.plan) ** 0.5
    if roll < churn_p:
        return _event(acct, "churn", at, 0.0)
    if roll < churn_p + profile.contract_p:
        return _event(acct, "contract", at, round(acct.mrr * rng.uniform(*profile.contract_to), 2))
    if roll < churn_p + profile.contract_p + profile.expand_p:
        return _event(acct, "expand", at, round(acct.mrr * rng.uniform(*profile.expand_by), 2))
    return None


def billing_events(tenant_id: str, profile: BillingProfile, now: datetime) -> list[dict[str, Any]]:
    """Every billing event of the tenant's history up to `now`, oldest first."""
    rng = random.Random(f"{tenant_id}-billing")
    events: list[dict[str, Any]] = []
    active: list[_Account] = []
    ids = (f"acct-{n:03d}" for n in range(10_000))
    plans = _Plans(rng)
    origin = now - HISTORY_MONTHS * MONTH

    def start(at: datetime) -> None:
        acct = _Account(next(ids), 0.0, plans.next())
        events.append(_event(acct, "start", at, acct.plan))
        active.append(acct)

    for _ in range(round(profile.accounts * profile.start_share)):
        start(origin + timedelta(days=rng.uniform(0, 30)))
    due = 0.0  # sign-ups expected but not started yet
    for month in range(1, HISTORY_MONTHS + 1):
        begin = origin + month * MONTH
        for acct in list(active):
            event = _moves(acct, profile, begin + timedelta(days=rng.uniform(0, 30)), rng)
            if event is not None:
                events.append(event)
                if acct.mrr == 0:
                    active.remove(acct)
        pace = profile.signups_then + (profile.signups_now - profile.signups_then) * month / HISTORY_MONTHS
        due += pace * profile.accounts
        while due >= 1:  # whole sign-ups as they accrue
            start(begin + timedelta(days=rng.uniform(0, 30)))
            due -= 1
    cutoff = now.astimezone(UTC).isoformat()
    return sorted(
        (e for e in events if e["occurred_at"] <= cutoff), key=lambda e: (e["occurred_at"], e["id"])
    )


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: fine for the small means of the demo)."""
    count, p, limit = 0, 1.0, pow(2.718281828459045, -mean)
    while True:
        p *= rng.random()
        if p <= limit:
            return count
        count += 1


def batches(events: list[dict[str, Any]], size: int = 500) -> Iterator[dict[str, Any]]:
    """Billing request bodies of at most `size` events (the format allows 1,000 a request)."""
    for i in range(0, len(events), size):
        yield {"events": events[i : i + size]}
