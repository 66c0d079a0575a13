"""What the Stripe parser keeps of customer.subscription.* events for the accounts at risk of churn:
one `subscription_state` signal per event (customer, status, cancel_at_period_end, list MRR).

The real bodies (shared/fixtures/real/stripe/, Zulip's) are read as they are; none of them has
`cancel_at_period_end: true` or a `past_due` / `unpaid` status, so the at-risk variants are the real
`customer.subscription.updated` body with only those fields (and the matching previous_attributes)
changed, said at each test. Expected numbers are worked out here from the JSON.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from companyos.runs import churn_risk
from companyos.sources.stripe import StripeSource

from tests.conftest import real_fixture
from tests.unit.sources.helpers import request


def fixture(name: str) -> dict:
    return json.loads(real_fixture(f"stripe/{name}"))


def parse(doc: dict):
    return StripeSource().parse(request(json.dumps(doc).encode()))


def state_of(doc: dict):
    (state,) = [s for s in parse(doc).signals if s.kind == "subscription_state"]
    return state


def updated_yearly_mrr(doc: dict) -> float:
    """800 seats x 100 cents a year, USD: the list MRR of the updated fixture's subscription."""
    item = doc["data"]["object"]["items"]["data"][0]
    assert item["plan"]["interval"] == "year" and item["plan"]["currency"] == "usd"
    return item["plan"]["amount"] * item["quantity"] / 100 / 12


def test_created_is_an_active_subscription_not_at_risk():
    doc = fixture("zulip-customer_subscription_created.json")
    sub = doc["data"]["object"]
    state = state_of(doc)
    assert state.occurred_at == datetime.fromtimestamp(doc["created"], UTC)
    a = state.attributes
    assert a["account_id"] == sub["customer"] and a["subscription_id"] == sub["id"]
    assert a["status"] == "active" and a["cancel_at_period_end"] is False
    # no items (an API version before 2018): the subscription's own plan, monthly, AUD cents
    assert a["list_mrr"] == pytest.approx(sub["plan"]["amount"] * sub["quantity"] / 100)
    assert a["currency"] == "AUD" and a["event_id"] == doc["id"]
    assert churn_risk.reasons_of(a) == ()


def test_updated_to_trialing_keeps_its_list_mrr_and_is_not_at_risk():
    doc = fixture("zulip-customer_subscription_updated.json")
    a = state_of(doc).attributes
    assert a["status"] == "trialing" and a["cancel_at_period_end"] is False
    assert a["list_mrr"] == pytest.approx(updated_yearly_mrr(doc), abs=1e-6)  # priced as if active
    assert a["current_period_end"] == doc["data"]["object"]["current_period_end"]
    assert churn_risk.reasons_of(a) == ()


def test_deleted_is_canceled_churned_not_at_risk():
    doc = fixture("zulip-customer_subscription_deleted.json")
    a = state_of(doc).attributes
    assert a["status"] == "canceled" and churn_risk.reasons_of(a) == ()


def test_a_scheduled_cancellation_is_at_risk_and_moves_no_mrr():
    """Variant: the real updated body, status `active` and `cancel_at_period_end: true`, previous
    attributes `cancel_at_period_end: false` (the customer clicked cancel; nothing else changed)."""
    doc = fixture("zulip-customer_subscription_updated.json")
    doc["data"]["object"]["status"] = "active"
    doc["data"]["object"]["cancel_at_period_end"] = True
    doc["data"]["previous_attributes"] = {"cancel_at_period_end": False}
    parsed = parse(doc)
    assert [s.kind for s in parsed.signals] == ["subscription_state"]  # MRR unchanged: no movement
    a = parsed.signals[0].attributes
    assert a["cancel_at_period_end"] is True and a["status"] == "active"
    assert churn_risk.reasons_of(a) == ("cancel_at_period_end",)
    assert a["list_mrr"] == pytest.approx(updated_yearly_mrr(doc), abs=1e-6)


def test_past_due_is_at_risk_and_still_counts_its_mrr():
    """Variant: the real updated body with status `past_due` (was `active`): a failed renewal.
    Both statuses bill MRR, so no movement; only the state says it is at risk."""
    doc = fixture("zulip-customer_subscription_updated.json")
    doc["data"]["object"]["status"] = "past_due"
    doc["data"]["previous_attributes"] = {"status": "active"}
    parsed = parse(doc)
    assert [s.kind for s in parsed.signals] == ["subscription_state"]
    assert churn_risk.reasons_of(parsed.signals[0].attributes) == ("past_due",)


def test_unpaid_churns_its_mrr_but_its_list_mrr_says_what_is_at_risk():
    """Variant: the real updated body with status `unpaid` (was `past_due`) and a cancellation
    scheduled too: the billing event takes its MRR out, the state keeps it as at risk."""
    doc = fixture("zulip-customer_subscription_updated.json")
    doc["data"]["object"]["status"] = "unpaid"
    doc["data"]["object"]["cancel_at_period_end"] = True
    doc["data"]["previous_attributes"] = {"status": "past_due"}
    billing, state = parse(doc).signals
    mrr = updated_yearly_mrr(doc)
    assert billing.kind == "billing_event" and billing.attributes["type"] == "churn"
    assert billing.attributes["mrr_delta"] == pytest.approx(-mrr, abs=1e-6)
    assert state.attributes["list_mrr"] == pytest.approx(mrr, abs=1e-6)
    assert churn_risk.reasons_of(state.attributes) == ("cancel_at_period_end", "unpaid")


def test_a_redelivered_event_is_the_same_state_signal():
    doc = fixture("zulip-customer_subscription_updated.json")
    assert state_of(copy.deepcopy(doc)).key == state_of(doc).key == f"state:{doc['id']}"
