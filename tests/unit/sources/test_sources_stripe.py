"""Stripe webhooks: the Stripe-Signature scheme against the vectors of two Stripe client libraries, and
every real event body (shared/fixtures/real/stripe/) turned into numbers computed here from the JSON.

Vectors: typeclasses/stripe `stripe-signature/test/test.hs` (secret "secret", t=123, body "hello",
and the header parse of t=1492774577 with one v1 and one v0) and stripe/stripe-python
`tests/test_webhook.py` (its payload, secret, header shapes and the 300 s tolerance).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

import pytest
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources import stripe
from companyos.sources.stripe import StripeSource

from tests.conftest import clock_at, real_fixture
from tests.unit.sources.helpers import request

HS = "stripe/typeclasses-stripe-signature-test.hs"
PY = "stripe/stripe-python-tests-test_webhook.py"


def hs_vector() -> tuple[str, int, bytes, str]:
    """(secret, t, body, expected v1 hex) of the Haskell library's validation test."""
    text = real_fixture(HS).decode()
    digest = re.search(r'Base16\.decode \(Data\.ByteString\.Char8\.pack "([0-9a-f]{64})"\)', text)
    pack = r'\(Data\.ByteString\.Char8\.pack "(\w+)"\)'
    sig = re.search(
        r"Sig\{ sigTime = (\d+), sigV1 = \[d\] \} \(WebhookSecretKey " + pack + r"\) " + pack, text
    )
    assert digest and sig
    return sig.group(2), int(sig.group(1)), sig.group(3).encode(), digest.group(1)


def py_payload() -> tuple[bytes, str]:
    text = real_fixture(PY).decode()
    payload = re.search(r'DUMMY_WEBHOOK_PAYLOAD = """(.*?)"""', text, re.S)
    secret = re.search(r'DUMMY_WEBHOOK_SECRET = "(\w+)"', text)
    assert payload and secret
    return payload.group(1).encode(), secret.group(1)


def header(secret: str, t: int, body: bytes, scheme: str = "v1") -> str:
    """stripe-python's generate_header: t=<t>,<scheme>=<HMAC-SHA256 of "<t>.<payload>">."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},{scheme}={mac}"


def at(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def test_the_v1_signature_is_the_haskell_librarys_vector():
    secret, t, body, expected = hs_vector()
    assert stripe.signature(secret, t, body) == expected
    good = f"t={t},v1={expected}"
    stripe.verify_signature(good, body, [secret], at(t + 10))
    with pytest.raises(SignatureInvalid) as forged:
        stripe.verify_signature(good, body + b"!", [secret], at(t + 10))  # "hello!" is refused
    assert forged.value.status == 401 and forged.value.code == "signature_invalid"
    # any of several v1 values may match (the library's third case: "whatever" then the digest)
    stripe.verify_signature(f"t={t},v1=whatever,v1={expected}", body, [secret], at(t))


def test_the_header_parse_of_the_haskell_test_string():
    text = real_fixture(HS).decode()
    raw = "".join(
        re.search(r'test_string =\s*"(.*?)"\s*\n\s*\n', text, re.S).group(1).split("\\\n        \\")
    )  # type: ignore[union-attr]
    t, v1 = stripe.parse_header(raw)
    assert t == int(re.search(r"test_time = (\d+)", text).group(1))  # type: ignore[union-attr]
    octets = [int(b) for b in re.findall(r"\d+", re.search(r"test_v1Bytes =(.*?)\]", text, re.S).group(1))]  # type: ignore[union-attr]
    assert v1 == [bytes(octets).hex()]  # the v0 value is not a v1 signature


def test_stale_or_future_timestamps_are_refused_beyond_300_seconds():
    body, secret = py_payload()
    t = 1_780_000_000
    value = header(secret, t, body)
    stripe.verify_signature(value, body, [secret], at(t + 300))
    stripe.verify_signature(value, body, [secret], at(t - 300))
    for now in (at(t + 301), at(t - 301)):
        with pytest.raises(SignatureInvalid) as err:
            stripe.verify_signature(value, body, [secret], now)
        assert err.value.status == 401 and err.value.code == "signature_expired"


def test_the_source_checks_against_the_session_clock_and_rotated_secrets():
    body, secret = py_payload()
    t = 1_780_000_000
    req = request(body, Stripe_Signature=header(secret, t, body))
    with clock_at(at(t + 5)):
        StripeSource().verify(req, ["whsec_old", secret])
    with clock_at(at(t + 3600)), pytest.raises(SignatureInvalid) as err:
        StripeSource().verify(req, [secret])
    assert err.value.code == "signature_expired"


@pytest.mark.parametrize(
    "value",
    ["bad_header", "", "t=abc,v1=00", "v1=00ff", "t=1780000000"],
)
def test_headers_without_a_timestamp_or_a_v1_are_refused(value):
    body, secret = py_payload()
    with pytest.raises(SignatureInvalid) as err:
        stripe.verify_signature(value, body, [secret], at(1_780_000_000))
    assert err.value.status == 401 and err.value.code == "signature_missing"


def test_a_v0_only_header_is_refused_like_stripe_python_does():
    body, secret = py_payload()
    with pytest.raises(SignatureInvalid) as err:
        stripe.verify_signature(header(secret, 1_780_000_000, body, "v0"), body, [secret], at(1_780_000_000))
    assert err.value.code == "signature_missing"


def fixture(name: str) -> dict:
    return json.loads(real_fixture(f"stripe/{name}"))


def parse(doc: dict):
    return StripeSource().parse(request(json.dumps(doc).encode()))


def test_subscription_created_is_a_new_mrr_of_plan_amount_times_quantity():
    doc = fixture("zulip-customer_subscription_created.json")
    sub = doc["data"]["object"]
    parsed = StripeSource().parse(request(real_fixture("stripe/zulip-customer_subscription_created.json")))
    assert parsed.delivery_id == doc["id"] and parsed.event == "customer.subscription.created"
    s, state = parsed.signals
    assert state.kind == "subscription_state"  # every subscription event (test_sources_stripe_churn.py)
    assert s.kind == "billing_event" and s.occurred_at == at(doc["created"])
    monthly = sub["plan"]["amount"] * sub["quantity"] / 100  # AUD cents, one month interval
    assert s.attributes["mrr_before"] == 0 and s.attributes["mrr_delta"] == pytest.approx(monthly)
    assert s.attributes["account_id"] == sub["customer"] and s.attributes["currency"] == "AUD"
    assert s.attributes["type"] == "start"


def test_subscription_updated_compares_with_the_previous_attributes():
    """The fixture goes from `active` to `trialing` (same 800 seats of a yearly plan): a trialing
    subscription has no MRR, so the customer's MRR falls by the yearly price / 12."""
    doc = fixture("zulip-customer_subscription_updated.json")
    item = doc["data"]["object"]["items"]["data"][0]
    assert doc["data"]["previous_attributes"]["status"] == "active"
    yearly = item["plan"]["amount"] * item["quantity"] / 100
    s, _ = parse(doc).signals
    assert s.attributes["mrr_before"] == pytest.approx(yearly / 12, abs=1e-6)
    assert s.attributes["mrr_delta"] == pytest.approx(-yearly / 12, abs=1e-6)
    assert s.attributes["status"] == "trialing" and s.attributes["currency"] == "USD"
    # the same event with more seats and still active: an expansion of the seats added
    more = copy.deepcopy(doc)
    more["data"]["object"]["status"] = "active"
    more["data"]["object"]["items"]["data"][0]["quantity"] = 1000
    more["data"]["previous_attributes"] = {"items": doc["data"]["object"]["items"]}
    s, _ = parse(more).signals
    assert s.attributes["type"] == "expand"
    assert s.attributes["mrr_delta"] == pytest.approx(item["plan"]["amount"] * 200 / 100 / 12, abs=1e-6)


def test_an_update_that_does_not_change_mrr_stores_no_billing_event():
    """Only the subscription's state (its cancellation was taken back: no MRR moved)."""
    doc = fixture("zulip-customer_subscription_updated.json")
    doc["data"]["previous_attributes"] = {"cancel_at_period_end": True}
    parsed = parse(doc)
    assert [s.kind for s in parsed.signals] == ["subscription_state"] and parsed.ignored_reason is None


def test_subscription_deleted_churns_its_mrr():
    doc = fixture("zulip-customer_subscription_deleted.json")
    sub = doc["data"]["object"]
    s, _ = parse(doc).signals
    assert s.attributes["mrr_before"] == pytest.approx(sub["plan"]["amount"] * sub["quantity"] / 100)
    assert (
        s.attributes["mrr_delta"] == pytest.approx(-s.attributes["mrr_before"])
        and s.attributes["type"] == "churn"
    )


def test_price_items_are_normalised_to_a_month_in_the_currencys_minor_unit():
    def price(amount, currency, interval, count=1):
        return {
            "unit_amount": amount,
            "currency": currency,
            "recurring": {"interval": interval, "interval_count": count},
        }

    items = [
        {"price": price(1200, "usd", "year"), "quantity": 3},
        {"price": price(500, "usd", "week", 2), "quantity": 1},
        {"price": price(None, "usd", "month"), "quantity": 7},
    ]
    mrr, currency, unpriced = stripe.subscription_mrr({"status": "active", "items": {"data": items}})
    assert mrr == pytest.approx(12.00 * 3 / 12 + 5.00 * 52 / 12 / 2) and currency == "usd" and unpriced == 1
    yen = {"status": "past_due", "items": {"data": [{"price": price(980, "jpy", "month"), "quantity": 2}]}}
    assert stripe.subscription_mrr(yen)[0] == 1960.0


def test_an_invoice_payment_is_revenue_of_its_amount_paid():
    doc = fixture("zulip-invoice_payment_succeeded.json")
    inv = doc["data"]["object"]
    (s,) = parse(doc).signals
    assert s.kind == "revenue_event" and s.attributes["type"] == "invoice"
    assert (
        s.attributes["amount"] == inv["amount_paid"] / 100
        and s.attributes["currency"] == inv["currency"].upper()
    )
    assert s.attributes["object_id"] == inv["id"]


def test_charge_refunded_gives_one_refund_per_refund_object():
    """pay-rails' fixture is the event's `data` only: it is wrapped in an event envelope here."""
    data = fixture("pay-rails-charge.refunded-data.json")
    doc = {
        "id": "evt_refund_1",
        "object": "event",
        "type": "charge.refunded",
        "created": 1658982466,
        "data": data,
    }
    signals = parse(doc).signals
    refunds = data["object"]["refunds"]["data"]
    assert [s.attributes["object_id"] for s in signals] == [r["id"] for r in refunds]
    assert sum(s.attributes["amount"] for s in signals) == sum(r["amount"] for r in refunds) / 100
    assert (
        signals[0].occurred_at == at(refunds[0]["created"]) and signals[0].attributes["status"] == "succeeded"
    )


def test_a_failed_refund_update_keeps_its_status():
    doc = fixture("zulip-refund_event-charge.refund.updated.json")
    refund = doc["data"]["object"]
    (s,) = parse(doc).signals
    assert s.attributes["status"] == "failed" and s.attributes["object_id"] == refund["id"]
    assert s.attributes["amount"] == refund["amount"] / 100 and s.attributes["currency"] == "INR"


def test_other_event_types_are_ignored_with_the_reason():
    doc = fixture("zulip-invoice_payment_succeeded.json") | {"type": "customer.created"}
    parsed = parse(doc)
    assert parsed.signals == [] and "customer.created" in (parsed.ignored_reason or "")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"this is not valid JSON", "malformed_event"),
        (b"[1, 2]", "malformed_event"),
        (b'{"id": "evt_1", "object": "event", "type": "invoice.paid"}', "invalid_payload"),
        (b'{"object": "event", "type": "invoice.paid", "data": {"object": {}}}', "invalid_payload"),
    ],
)
def test_malformed_events_are_422_with_a_code(body, code):
    with pytest.raises(InvalidPayload) as err:
        StripeSource().parse(request(body))
    assert err.value.status == 422 and err.value.code == code


def test_an_odd_shape_inside_a_known_event_is_422_not_a_crash():
    doc = fixture("zulip-invoice_payment_succeeded.json")
    doc["data"]["object"]["amount_paid"] = "lots"
    with pytest.raises(InvalidPayload) as err:
        parse(doc)
    assert err.value.details["path"] == "data.object.amount_paid"
    sub = fixture("zulip-customer_subscription_created.json")
    sub["data"]["object"]["items"] = {"data": ["not an item"]}
    with pytest.raises(InvalidPayload):
        parse(sub)
