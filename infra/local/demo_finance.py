"""Demo finance sources: Stripe webhook events of a self-serve plan and the monthly finance uploads,
through the real ingest path (`Deliverer`, each Stripe body signed with `Stripe-Signature` at the time
it is sent, as Stripe signs a resent event).

* Stripe: `STRIPE_MONTHS` of self-serve subscriptions (`customer.subscription.created`, seat
  changes as `.updated` with `previous_attributes.items`, cancellations as `.deleted`), with monthly
  `invoice.paid` events for the last `INVOICE_MONTHS` months and a few refunds (`charge.refunded`, one
  of them later failing: `charge.refund.updated`). The Stripe customers are not the billing-format
  accounts of `demo_billing` (a self-serve line beside the sales-led one), so ARR and NRR count both
  without counting anyone twice.
* Finance: one upload per closed month (`FINANCE_MONTHS`), JSON and, for the last month, CSV
  (a correction with a newer `as_of`). Northwind's carries revenue (its books: billing-format MRR +
  Stripe MRR); Globex's has none, so Globex's revenue is Stripe's invoices minus refunds. COGS lines
  exclude AWS (the runs add the CUR export's cost); sales & marketing spend is a monthly budget.
* Accounts at risk of churn (`_at_risk`, after the simulation, without its RNG): a few of the
  largest live subscriptions get a cancellation scheduled (`cancel_at_period_end: true`) or go
  `past_due` at this month's renewal (that invoice is then not paid: its `invoice.paid` and refunds are
  left out), and one smaller one goes past due. `AT_RISK` picks how many per tenant so that Northwind
  has 3 enterprise accounts at risk (ChurnRiskAlert fires: more than 2) and Globex 2 (quiet).

Deterministic per tenant (its own RNG).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra.local import demo_billing
from infra.local.demo_billing import BillingProfile
from infra.local.demo_deliver import Deliverer

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

STRIPE_MONTHS = 14
INVOICE_MONTHS = 4  # the 3 closed months the 90-day margin reads, and the month in progress
FINANCE_MONTHS = 13
PRICES = ((4900, "starter"), (14900, "team"), (39900, "business"))  # USD cents a seat-month
# tenant -> (enterprise cancellations scheduled, enterprise past due, smaller accounts past due)
AT_RISK = {"northwind": (2, 1, 1), "globex": (2, 0, 1)}
API_VERSION = "2024-06-20"


@dataclass(frozen=True)
class FinanceProfile:
    new_per_month: float  # self-serve sign-ups a month
    sales_marketing: float  # monthly budget, USD
    books_revenue: bool  # the upload carries revenue (else Stripe's)
    cogs_shares: tuple[tuple[str, float], ...] = (
        ("Customer support", 0.05),
        ("Payment processing", 0.029),
        ("Third-party services", 0.02),
    )


PROFILES = {
    "northwind": FinanceProfile(new_per_month=5, sales_marketing=19000.0, books_revenue=True),
    "globex": FinanceProfile(new_per_month=2, sales_marketing=8000.0, books_revenue=False),
}


@dataclass
class _Sub:
    id: str
    customer: str
    price: int
    plan: str
    quantity: int
    started: datetime
    ended: datetime | None = None


@dataclass
class _Stripe:
    tenant_id: str
    rng: random.Random
    events: list[dict[str, Any]] = field(default_factory=list)
    subs: list[_Sub] = field(default_factory=list)
    sent: int = 0  # events made so far: the next event's id (events may be dropped, ids never reused)

    def event(
        self, etype: str, at: datetime, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        n, self.sent = self.sent, self.sent + 1
        self.events.append(
            {
                "id": f"evt_{self.tenant_id}_{n:05d}",
                "object": "event",
                "api_version": API_VERSION,
                "created": int(at.timestamp()),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": etype,
            }
        )


def _items(sub: _Sub, quantity: int | None = None) -> dict[str, Any]:
    price = {
        "id": f"price_{sub.plan}",
        "object": "price",
        "currency": "usd",
        "unit_amount": sub.price,
        "unit_amount_decimal": str(sub.price),
        "nickname": sub.plan,
        "type": "recurring",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
    }
    item = {
        "id": f"si_{sub.id}",
        "object": "subscription_item",
        "price": price,
        "quantity": quantity if quantity is not None else sub.quantity,
        "subscription": sub.id,
    }
    return {"object": "list", "data": [item], "has_more": False, "total_count": 1}


def _subscription(sub: _Sub, status: str) -> dict[str, Any]:
    return {
        "id": sub.id,
        "object": "subscription",
        "customer": sub.customer,
        "currency": "usd",
        "status": status,
        "created": int(sub.started.timestamp()),
        "items": _items(sub),
        "ended_at": int(sub.ended.timestamp()) if sub.ended else None,
        "trial_end": None,
    }


def _month_firsts(now: datetime, months: int) -> list[datetime]:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = [first]
    for _ in range(months - 1):
        out.append((out[-1] - timedelta(days=1)).replace(day=1))
    return sorted(out)


def _simulate(demo: DemoTenant, profile: FinanceProfile, now: datetime) -> _Stripe:
    s = _Stripe(demo.tenant.id, random.Random(f"{demo.tenant.id}-stripe"))
    rng, months = s.rng, _month_firsts(now, STRIPE_MONTHS)
    for m, first in enumerate(months):
        for sub in [x for x in s.subs if x.ended is None]:
            at = first + timedelta(days=rng.uniform(0, 27), hours=rng.uniform(0, 23))
            roll = rng.random()
            if at > now:
                continue
            if roll < 0.03:
                sub.ended = at
                s.event("customer.subscription.deleted", at, _subscription(sub, "canceled"))
            elif roll < 0.15:
                before = _items(sub)
                sub.quantity += rng.randint(1, 3)
                s.event("customer.subscription.updated", at, _subscription(sub, "active"), {"items": before})
        for _ in range(demo_billing.poisson(rng, profile.new_per_month)):
            at = first + timedelta(days=rng.uniform(0, 27), hours=rng.uniform(0, 23))
            if at > now:
                continue
            price, plan = rng.choice(PRICES)
            n = len(s.subs)
            sub = _Sub(
                f"sub_{s.tenant_id}_{n:04d}", f"cus_{s.tenant_id}_{n:04d}", price, plan, rng.randint(1, 3), at
            )
            s.subs.append(sub)
            s.event("customer.subscription.created", at, _subscription(sub, "active"))
        if m >= STRIPE_MONTHS - INVOICE_MONTHS:
            _invoices(s, first, now)
    _at_risk(s, AT_RISK.get(demo.tenant.id, (0, 0, 0)), now)
    s.events.sort(key=lambda e: (e["created"], e["id"]))
    return s


def _renewal(sub: _Sub, now: datetime) -> datetime:
    """This month's renewal (invoice) time of a monthly subscription (`_invoices`' rule)."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.replace(day=min(sub.started.day, 28), hour=sub.started.hour)


def _at_risk(s: _Stripe, picks: tuple[int, int, int], now: datetime) -> None:
    """Mark the largest live subscriptions at risk (module doc), deterministically: enterprise ones by
    the NRR contract's `enterprise_mrr_min`, largest first; past due only where this month's renewal
    already came (at least a day ago), and that renewal's invoice is then unpaid."""
    from companyos.runs import churn_risk, contracts

    mrr_min = churn_risk.enterprise_mrr_min(contracts.get("net_revenue_retention").params)
    live = sorted(
        (x for x in s.subs if x.ended is None and x.started < now - timedelta(days=45)),
        key=lambda x: (-x.price * x.quantity, x.id),
    )
    big = [x for x in live if x.price * x.quantity / 100 >= mrr_min]
    small = [x for x in live if x.price * x.quantity / 100 < mrr_min]
    due = [x for x in live if _renewal(x, now) <= now - timedelta(days=1)]
    cancels, big_due, small_due = picks
    late = [x for x in big if x in due][:big_due] + [x for x in small if x in due][:small_due]
    for sub in late:
        at = _renewal(sub, now)
        renewal = f"{sub.id}_{at:%Y%m}"  # that renewal's invoice, charge and refunds
        s.events = [e for e in s.events if renewal not in json.dumps(e["data"]["object"])]
        s.event("customer.subscription.updated", at + timedelta(hours=1), _subscription(sub, "past_due"),
                {"status": "active"})  # fmt: skip
    for n, sub in enumerate([x for x in big if x not in late][:cancels]):
        at = now - timedelta(days=3 + 4 * n, hours=5)
        period_end = _renewal(sub, now)
        period_end = (
            period_end if period_end > now else (period_end + timedelta(days=32)).replace(day=period_end.day)
        )
        obj = {**_subscription(sub, "active"), "cancel_at_period_end": True,
               "current_period_end": int(period_end.timestamp())}  # fmt: skip
        s.event("customer.subscription.updated", at, obj, {"cancel_at_period_end": False})


def _invoices(s: _Stripe, first: datetime, now: datetime) -> None:
    """One paid invoice per live subscription on its monthly anniversary; a few refunds."""
    for sub in s.subs:
        at = first.replace(day=min(sub.started.day, 28), hour=sub.started.hour)
        if at <= sub.started or at > now or (sub.ended is not None and sub.ended <= at):
            continue
        amount = sub.price * sub.quantity
        inv = {
            "id": f"in_{sub.id}_{at:%Y%m}",
            "object": "invoice",
            "customer": sub.customer,
            "currency": "usd",
            "amount_due": amount,
            "amount_paid": amount,
            "amount_remaining": 0,
            "paid": True,
            "status": "paid",
            "subscription": sub.id,
            "charge": f"ch_{sub.id}_{at:%Y%m}",
            "billing_reason": "subscription_cycle",
            "status_transitions": {"paid_at": int(at.timestamp())},
        }
        s.event("invoice.paid", at, inv)
        if s.rng.random() < 0.04:
            _refund(s, inv, at + timedelta(days=2), fails=s.rng.random() < 0.3)


def _refund(s: _Stripe, inv: dict[str, Any], at: datetime, fails: bool) -> None:
    amount = inv["amount_paid"] // 2
    refund = {
        "id": f"re_{inv['id'][3:]}",
        "object": "refund",
        "amount": amount,
        "charge": inv["charge"],
        "created": int(at.timestamp()),
        "currency": "usd",
        "status": "succeeded",
        "reason": "requested_by_customer",
    }
    charge = {
        "id": inv["charge"],
        "object": "charge",
        "amount": inv["amount_paid"],
        "amount_refunded": amount,
        "currency": "usd",
        "customer": inv["customer"],
        "invoice": inv["id"],
        "refunded": False,
        "refunds": {"object": "list", "data": [refund], "has_more": False, "total_count": 1},
    }
    s.event("charge.refunded", at, charge)
    if fails:
        s.event(
            "charge.refund.updated",
            at + timedelta(days=3),
            {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"},
            {"status": "succeeded"},
        )


def _mrr_at(s: _Stripe, day: datetime) -> float:
    live = [x for x in s.subs if x.started <= day and (x.ended is None or x.ended > day)]
    return sum(x.price * x.quantity for x in live) / 100  # seat counts as of `now`: close enough for books


def _books(demo: DemoTenant, now: datetime) -> tuple[dict[str, float], dict[str, int]]:
    """The billing-format accounts' MRR at mid-month and their new accounts, per YYYY-MM."""
    events = demo_billing.billing_events(demo.tenant.id, BillingProfile(demo.accounts), now)
    mrr: dict[str, float] = {}
    starts: dict[str, int] = {}
    for first in _month_firsts(now, FINANCE_MONTHS + 1):
        mid, period = (first + timedelta(days=14)).isoformat(), f"{first:%Y-%m}"
        last: dict[str, float] = {}
        for e in events:
            if e["occurred_at"] <= mid:
                last[e["account_id"]] = e["mrr_after"]
            if e["type"] == "start" and e["occurred_at"][:7] == period:
                starts[period] = starts.get(period, 0) + 1
        mrr[period] = sum(last.values())
    return mrr, starts


def _uploads(demo: DemoTenant, profile: FinanceProfile, s: _Stripe, now: datetime) -> list[dict[str, Any]]:
    books, starts = _books(demo, now)
    rng, months = random.Random(f"{demo.tenant.id}-finance"), []
    for first in _month_firsts(now, FINANCE_MONTHS + 1)[:-1]:  # the closed months
        period = f"{first:%Y-%m}"
        stripe_mrr = _mrr_at(s, first + timedelta(days=14))
        revenue = round((books.get(period, 0.0) if profile.books_revenue else 0.0) + stripe_mrr, 2)
        new = sum(1 for x in s.subs if f"{x.started:%Y-%m}" == period) + starts.get(period, 0)
        closed = first.replace(month=first.month % 12 + 1, year=first.year + first.month // 12) + timedelta(
            days=2
        )
        month = {
            "period": period,
            "currency": "USD",
            "as_of": closed.astimezone(UTC).isoformat(),
            "cogs": [
                {"name": n, "amount": round(revenue * share * rng.uniform(0.9, 1.1), 2)}
                for n, share in profile.cogs_shares
            ],
            "sales_marketing": round(profile.sales_marketing * rng.uniform(0.85, 1.15), 2),
            "new_customers": new,
        }
        if profile.books_revenue:
            month["revenue"] = revenue
        months.append(month)
    return months


def _csv(month: dict[str, Any], as_of: datetime) -> bytes:
    head = f"{month['period']},{month['currency']},{as_of.astimezone(UTC).isoformat()}"
    lines = ["period,currency,as_of,item,name,amount"]
    if "revenue" in month:
        lines.append(f"{head},revenue,,{month['revenue']}")
    lines += [f"{head},cogs,{c['name']},{c['amount']}" for c in month["cogs"]]
    lines.append(f"{head},sales_marketing,Paid acquisition,{round(month['sales_marketing'] * 0.7, 2)}")
    lines.append(f"{head},sales_marketing,Sales team,{round(month['sales_marketing'] * 0.3, 2)}")
    lines.append(f"{head},new_customers,,{month['new_customers']}")
    return ("\n".join(lines) + "\n").encode()


def seed_finance(out: Deliverer, demo: DemoTenant, now: datetime) -> dict[str, int]:
    profile = PROFILES.get(demo.tenant.id, PROFILES["globex"])
    stripe = _simulate(demo, profile, now)
    for event in stripe.events:
        out.send("stripe", event)
    months = _uploads(demo, profile, stripe, now)
    out.send("finance", {"months": months[:-1]})
    last = months[-1]
    out.send("finance", {"months": [{**last, "as_of": (now - timedelta(days=5)).isoformat()}]})
    # the month's correction, as the finance team exports it: CSV, a newer as_of, support re-costed
    fixed = {**last, "cogs": [{**c, "amount": round(c["amount"] * 1.02, 2)} for c in last["cogs"]]}
    out.send_raw("finance", _csv(fixed, now - timedelta(days=1)), {"content-type": "text/csv"})
    return {
        "stripe_events": len(stripe.events),
        "finance_months": len(months),
        "subscriptions": len(stripe.subs),
    }
