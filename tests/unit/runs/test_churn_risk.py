"""Accounts at risk of churn, end to end below the stack: Stripe events (copies of the real
`customer.subscription.created` body, shared/fixtures/real/stripe/) parsed by the Stripe source,
the net_revenue_retention run's rows builder with the shipped contract's params, and the CEO's
ChurnRiskAlert over the delivered rows (fires above 2 enterprise accounts, quiet at 2).

Each customer's events are the real created body with only its ids, `created`, `quantity`, and the
at-risk fields (`status`, `cancel_at_period_end`, `current_period_end`, for updates the type and
previous_attributes) changed. Expected numbers are worked out here: the fixture's monthly plan
amount (AUD cents) x quantity / 100, against enterprise_mrr_min read from the shipped contract.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from companyos.alerts import observe
from companyos.domain.alert_engine import evaluate
from companyos.domain.alert_rules import load_pack
from companyos.runs import contracts, rows
from companyos.runs.formula_base import SignalRow
from companyos.runs.rows import RowsContext
from companyos.sources.stripe import StripeSource

from tests.conftest import real_fixture
from tests.unit.sources.helpers import request

AS_OF = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # the run's as_of (before the session clock)
PARAMS = contracts.get("net_revenue_retention").params
MRR_MIN = float(PARAMS["enterprise_mrr_min"])


def created() -> dict[str, Any]:
    return json.loads(real_fixture("stripe/zulip-customer_subscription_created.json"))


def seat_mrr() -> float:
    plan = created()["data"]["object"]["plan"]
    assert plan["interval"] == "month" and plan["interval_count"] == 1 and plan["currency"] == "aud"
    return plan["amount"] / 100  # AUD a seat-month


class Stripe:
    """Events of one test's subscriptions, each a copy of the real created body."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def _event(self, sub: str, etype: str, at: datetime, **fields: Any) -> None:
        doc = created()
        n = len(self.events)
        doc["id"], doc["type"], doc["created"] = f"evt_test_{n:03d}", etype, int(at.timestamp())
        obj = doc["data"]["object"]
        obj["id"], obj["customer"] = sub, fields.pop("customer")
        obj.update(fields)
        if etype.endswith(".updated"):
            doc["data"]["previous_attributes"] = {"metadata": {}}  # what changed is not read here
        self.events.append(doc)

    def start(self, sub: str, customer: str, seats: int, at: datetime) -> None:
        self._event(sub, "customer.subscription.created", at, customer=customer, quantity=seats)
        self.seats = {**getattr(self, "seats", {}), sub: (customer, seats)}

    def update(self, sub: str, at: datetime, **fields: Any) -> None:
        customer, seats = self.seats[sub]
        self._event(sub, "customer.subscription.updated", at, customer=customer, quantity=seats, **fields)

    def delete(self, sub: str, at: datetime) -> None:
        customer, seats = self.seats[sub]
        self._event(
            sub, "customer.subscription.deleted", at, customer=customer, quantity=seats, status="canceled"
        )

    def signals(self) -> dict[str, list[SignalRow]]:
        out: dict[str, list[SignalRow]] = {}
        for doc in self.events:
            for s in StripeSource().parse(request(json.dumps(doc).encode())).signals:
                out.setdefault(s.kind, []).append(
                    SignalRow(s.kind, s.key, s.occurred_at, s.attributes, s.entity, None, "stripe")
                )
        return out


def day(n: float) -> datetime:
    return AS_OF - timedelta(days=n)


PERIOD_END = int((AS_OF + timedelta(days=20)).timestamp())


def scenario() -> Stripe:
    """Enterprise at risk as of AS_OF: A (cancel scheduled), B (past due since day 3, still on day 1),
    C (unpaid, exactly at the threshold), H (one of two subscriptions cancel scheduled). Not
    enterprise: D. Not at risk: E (cancellation taken back), F (deleted: churned), G (past due
    only after as_of), I (trialing)."""
    seats = int(MRR_MIN / seat_mrr())  # the fewest seats an enterprise customer has
    st = Stripe()
    st.start("sub_a", "cus_a", 2 * seats, day(60))
    st.update("sub_a", day(5), cancel_at_period_end=True, current_period_end=PERIOD_END)
    st.start("sub_b", "cus_b", seats + 10, day(90))
    st.update("sub_b", day(3), status="past_due")
    st.update("sub_b", day(1), status="past_due")  # a retry failed again: still since day 3
    st.start("sub_c", "cus_c", seats, day(30))
    st.update("sub_c", day(2), status="unpaid")
    st.start("sub_d", "cus_d", seats // 10, day(40))
    st.update("sub_d", day(4), status="past_due")
    st.start("sub_e", "cus_e", 3 * seats, day(50))
    st.update("sub_e", day(10), cancel_at_period_end=True)
    st.update("sub_e", day(6), cancel_at_period_end=False)
    st.start("sub_f", "cus_f", 2 * seats, day(70))
    st.update("sub_f", day(8), status="past_due")
    st.delete("sub_f", day(1))
    st.start("sub_g", "cus_g", 2 * seats, day(20))
    st.update("sub_g", day(-0.05), status="past_due")  # an hour after as_of
    st.start("sub_h1", "cus_h", seats // 2 + 1, day(100))
    st.start("sub_h2", "cus_h", seats // 2, day(100))
    st.update("sub_h2", day(7), cancel_at_period_end=True, current_period_end=PERIOD_END)
    st.start("sub_i", "cus_i", 5 * seats, day(3))
    st.update("sub_i", day(2), status="trialing")
    return st


def delivered(st: Stripe, as_of: datetime = AS_OF) -> dict[str, Any]:
    build = rows.builder(contracts.get("net_revenue_retention").formula.builtin)
    assert build is not None
    by_period = {
        p: build(st.signals(), RowsContext("t", as_of, PARAMS), d) for p, d in contracts.PERIODS.items()
    }
    entry = by_period["28d"]["accounts_at_risk"]
    assert all(e["accounts_at_risk"] == entry for e in by_period.values())  # a state, not a window
    return entry


def test_the_run_delivers_one_row_per_account_at_risk_with_mrr_reason_and_since():
    seats, per_seat = int(MRR_MIN / seat_mrr()), seat_mrr()
    entry = delivered(scenario())
    assert entry["available"] is True and entry["enterprise_mrr_min"] == MRR_MIN
    got = {i["customer"]: i for i in entry["items"]}
    # enterprise first, by MRR: A 2x, B +10 seats, H (two subscriptions) 1 seat above C, C at the threshold
    assert list(got) == ["cus_a", "cus_b", "cus_h", "cus_c", "cus_d"]
    a, b, c, h, d = (got[k] for k in ("cus_a", "cus_b", "cus_c", "cus_h", "cus_d"))
    assert a["mrr"] == pytest.approx(2 * seats * per_seat) and a["reasons"] == ["cancel_at_period_end"]
    assert (
        a["since"] == day(5).isoformat()
        and a["ends_at"] == datetime.fromtimestamp(PERIOD_END, UTC).isoformat()
    )
    assert b["mrr"] == pytest.approx((seats + 10) * per_seat) and b["reasons"] == ["past_due"]
    assert b["since"] == day(3).isoformat() and b["ends_at"] is None
    assert c["mrr"] == pytest.approx(MRR_MIN) and c["reasons"] == ["unpaid"] and c["enterprise"] is True
    # two subscriptions: the customer's MRR is both, the MRR at risk the cancelled one's
    assert h["mrr"] == pytest.approx((seats // 2 + 1 + seats // 2) * per_seat)
    assert h["mrr_at_risk"] == pytest.approx(seats // 2 * per_seat) and h["subscriptions"] == ["sub_h2"]
    assert (
        d["enterprise"] is False
        and d["segment"] == "other"
        and d["mrr"] == pytest.approx(seats // 10 * per_seat)
    )
    assert all(i["currency"] == "AUD" for i in entry["items"])
    segments = {s["id"]: s for s in entry["segments"]}
    assert segments["enterprise"]["accounts"] == 4 and segments["other"]["accounts"] == 1
    assert segments["enterprise"]["mrr"] == pytest.approx(a["mrr"] + b["mrr"] + c["mrr"] + h["mrr"])
    assert entry["total"] == 5 and entry["summary"].startswith("4 enterprise accounts at risk")
    (source,) = entry["evidence"]["sources"]
    assert (
        source["object"] == "stripe.subscription_state" and source["count"] == len(scenario().events) - 1
    )  # G's is after as_of


def test_no_subscription_event_is_unknown_not_zero():
    entry = delivered(Stripe())
    assert entry["available"] is False and "subscription_state" in entry["reason"]


def churn_alerts(entry: dict[str, Any]) -> list[Any]:
    rule = load_pack().rule("ChurnRiskAlert")
    samples = observe.row_samples({"panels": {"accounts_at_risk": entry}}, rule)
    return list(evaluate("t", [rule], samples, {}, AS_OF).changed.values())


def test_churn_risk_alert_fires_above_two_enterprise_accounts_and_stays_quiet_at_two():
    st = scenario()
    (alert,) = churn_alerts(delivered(st))  # 4 enterprise accounts at risk
    assert alert.state == "firing" and alert.value == 4.0 and alert.labels == {"segment": "enterprise"}
    assert alert.summary.startswith("4 enterprise accounts at risk of churn (more than 2)")
    st.update("sub_b", day(0.5), status="active")  # B paid
    (alert,) = churn_alerts(delivered(st))
    assert alert.state == "firing" and alert.value == 3.0
    st.update("sub_c", day(0.4), status="active")  # C paid: 2 left (A, H)
    entry = delivered(st)
    assert [s["accounts"] for s in entry["segments"] if s["id"] == "enterprise"] == [2]
    assert churn_alerts(entry) == []  # 2 is not more than 2: nothing fires


def test_the_enterprise_threshold_is_the_contracts_param():
    st = scenario()
    build = rows.builder("net_revenue_retention")
    assert build is not None
    higher = {**PARAMS, "enterprise_mrr_min": 10 * MRR_MIN}
    entry = build(st.signals(), RowsContext("t", AS_OF, higher), 28)["accounts_at_risk"]
    assert [s["accounts"] for s in entry["segments"]] == [0, 5]
    assert copy.deepcopy(entry)["enterprise_mrr_min"] == 10 * MRR_MIN
