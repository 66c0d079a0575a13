"""Stripe webhooks (`POST /api/ingest/stripe`): the signed event, turned into MRR movements and revenue.

Signature (Stripe's scheme, docs "Check the webhook signatures"): `Stripe-Signature: t=<unix
seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`, each v1 the hex HMAC-SHA256 of `"<t>.<raw body>"` keyed
with the endpoint's signing secret (`whsec_...`, stored as the tenant's `stripe` webhook secret;
during a rotation both secrets verify and Stripe sends one v1 per secret). A timestamp more than
`TOLERANCE_S` (300 s, the SDKs' default) from the session clock (`domain.clock`) is refused, so a
captured delivery cannot be replayed later; within the window, the event id is the delivery id, so
a redelivery stores nothing new. v0 (test-mode legacy scheme) is ignored.

Events read (any other type is answered `ignored` with the reason):

* `customer.subscription.created` / `.updated` / `.deleted` → one `billing_event` signal: the change
  of the subscription's MRR (`mrr_before` → `mrr_before + mrr_delta`), keyed by customer
  (`account_id`), so the billing formulas (runs/formulas_billing.py) classify it per customer as
  new / expansion / contraction / churn exactly like our own billing format. An update whose MRR
  did not change (a new card, a metadata edit, a cancellation scheduled) stores no billing event.
  Every subscription event also stores one `subscription_state` signal: the subscription as the
  event shows it (`subscription_state_signal`: customer, status, `cancel_at_period_end`, `cancel_at`,
  `current_period_end`, its list MRR), which the accounts-at-risk rows read (runs/churn_risk.py):
  Stripe's own marks of churn risk are `cancel_at_period_end: true` (a cancellation scheduled for the
  period's end) and the `past_due` / `unpaid` statuses (a payment failed: involuntary churn).
* `invoice.paid` / `invoice.payment_succeeded` → one `revenue_event` (`type: invoice`, the invoice's
  `amount_paid`); both events of one invoice count once (keyed by the invoice id in the formulas).
* `charge.refunded` → one `revenue_event` (`type: refund`) per refund in `charge.refunds.data`
  (else one for the charge's `amount_refunded`); `charge.refund.updated`, `refund.created`,
  `refund.updated`, `refund.failed` → one per refund object. The newest event of a refund decides
  its status: a failed or canceled refund gives the money back.

MRR of a subscription (`subscription_mrr`): Σ over `items.data` of unit amount x quantity, each
normalised to a month (day x 365/12, week x 52/12, month x 1, year / 12, all / interval_count),
read from the item's `price` (`unit_amount_decimal`, else `unit_amount`; `recurring.interval`) or,
for older API versions, its `plan` (`amount`, `interval`); a subscription without items (API
versions before 2018) uses its own `plan` and `quantity`. Amounts are in the currency's minor unit:
/100, /1 for zero-decimal currencies (JPY, KRW, ...), /1000 for three-decimal ones (KWD, ...).
Only `active` and `past_due` subscriptions have MRR (trialing, incomplete, unpaid, paused and
canceled ones have none). Discounts, taxes and metered or tiered prices (no unit amount) are not
counted; `unpriced_items` says how many items had no unit amount.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from companyos.domain import clock
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources.base import ParsedDelivery, Signal, WebhookRequest

HEADER = "Stripe-Signature"
TOLERANCE_S = 300
PAYING = frozenset({"active", "past_due"})
ZERO_DECIMAL = frozenset(  # Stripe's zero-decimal currencies
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
PER_MONTH = {"day": 365 / 12, "week": 52 / 12, "month": 1.0, "year": 1 / 12}
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_succeeded"}
REFUND_EVENTS = {"charge.refund.updated", "refund.created", "refund.updated", "refund.failed"}


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """Stripe's v1: hex HMAC-SHA256 of `"<t>.<raw body>"` keyed with the signing secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def parse_header(value: str | None) -> tuple[int, list[str]]:
    """`t=<unix>,v1=<hex>,...` → (t, every v1). Missing t, a non-integer t or no v1: 401."""
    stamp: int | None = None
    v1: list[str] = []
    for part in (value or "").split(","):
        key, _, val = part.strip().partition("=")
        if key == "t":
            try:
                stamp = int(val)
            except ValueError:
                stamp = None
                break
        elif key == "v1" and val:
            v1.append(val.strip().lower())
    if stamp is None or not v1:
        raise SignatureInvalid(
            f"missing or malformed {HEADER} header (needs t=<unix seconds> and at least one v1=)",
            code="signature_missing",
        )
    return stamp, v1


def verify_signature(
    header: str | None, body: bytes, secrets: Sequence[str], now: datetime, tolerance_s: int = TOLERANCE_S
) -> None:
    """Any offered v1 against any active secret (constant time), then the timestamp's age."""
    stamp, offered = parse_header(header)
    if not secrets:
        raise SignatureInvalid("no webhook secret is configured for this tenant and source")
    computed = [signature(s, stamp, body) for s in secrets]
    if not any(hmac.compare_digest(o, c) for o in offered for c in computed):
        raise SignatureInvalid("no v1 signature matches the payload")
    age = now.timestamp() - stamp
    if abs(age) > tolerance_s:
        raise SignatureInvalid(
            f"the signature's timestamp is {abs(age):.0f} s {'old' if age > 0 else 'in the future'}"
            f" (at most {tolerance_s} s): a stale or replayed delivery",
            code="signature_expired",
        )


def minor_unit(currency: str) -> int:
    c = currency.lower()
    return 1 if c in ZERO_DECIMAL else 1000 if c in THREE_DECIMAL else 100


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _item_mrr(item: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """(monthly amount in minor units or None when unpriced, currency) of one subscription item."""
    price = item.get("price") if isinstance(item.get("price"), dict) else None
    plan = item.get("plan") if isinstance(item.get("plan"), dict) else None
    if price is not None:
        amount = _num(price.get("unit_amount_decimal"))
        amount = amount if amount is not None else _num(price.get("unit_amount"))
        recurring = price.get("recurring") if isinstance(price.get("recurring"), dict) else {}
        interval, count, currency = (
            recurring.get("interval"),
            recurring.get("interval_count"),
            price.get("currency"),
        )
    elif plan is not None:
        amount = _num(plan.get("amount_decimal"))
        amount = amount if amount is not None else _num(plan.get("amount"))
        interval, count, currency = plan.get("interval"), plan.get("interval_count"), plan.get("currency")
    else:
        return None, None
    quantity = _num(item.get("quantity"))
    per_month = PER_MONTH.get(str(interval))
    if amount is None or per_month is None:
        return None, str(currency) if currency else None
    n = _num(count) or 1.0
    return amount * (1.0 if quantity is None else quantity) * per_month / n, str(
        currency
    ) if currency else None


def subscription_mrr(sub: Mapping[str, Any], status: str | None = None) -> tuple[float, str | None, int]:
    """(MRR in major units, lower-case currency, items without a unit amount) of a subscription.
    `status` overrides the subscription's own (e.g. its status before an update)."""
    if (status or sub.get("status")) not in PAYING:
        items_currency = _items_currency(sub)
        return 0.0, items_currency, 0
    items = sub.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    if not isinstance(data, list) or not data:
        data = [{"plan": sub.get("plan"), "quantity": sub.get("quantity")}] if sub.get("plan") else []
    total, unpriced, currency = 0.0, 0, sub.get("currency")
    for item in data:
        if not isinstance(item, dict):
            raise InvalidPayload("subscription items must be objects", details={"path": "data.object.items"})
        amount, item_currency = _item_mrr(item)
        currency = currency or item_currency
        if amount is None:
            unpriced += 1
        else:
            total += amount
    cur = str(currency).lower() if currency else None
    return total / minor_unit(cur or "usd"), cur, unpriced


def _items_currency(sub: Mapping[str, Any]) -> str | None:
    if sub.get("currency"):
        return str(sub["currency"]).lower()
    items = sub.get("items")
    for item in (items.get("data") if isinstance(items, dict) else None) or [sub]:
        for key in ("price", "plan"):
            part = item.get(key) if isinstance(item, dict) else None
            if isinstance(part, dict) and part.get("currency"):
                return str(part["currency"]).lower()
    return None


def _at(value: Any, path: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPayload(f"field '{path}' must be a unix timestamp (seconds)", details={"path": path})
    return datetime.fromtimestamp(value, UTC)


def _str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if isinstance(value, dict) and value.get("id"):  # an expanded object
        value = value["id"]
    if not isinstance(value, str) or not value:
        raise InvalidPayload(f"required field '{path}' is missing", details={"path": path})
    return value


def _event(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidPayload(f"the body is not a JSON Stripe event: {exc}", code="malformed_event") from exc
    if not isinstance(doc, dict) or doc.get("object") not in ("event", None):
        raise InvalidPayload("a Stripe webhook body is an event object", code="malformed_event")
    for key in ("id", "type"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise InvalidPayload(f"required field '{key}' is missing", details={"path": key})
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise InvalidPayload("required field 'data.object' is missing", details={"path": "data.object"})
    return doc


def _change(before: float, after: float) -> str:
    if before == 0:
        return "start"
    if after == 0:
        return "churn"
    return "expand" if after > before else "contract"


def _plan_of(sub: Mapping[str, Any]) -> str | None:
    items = sub.get("items")
    data = (items.get("data") if isinstance(items, dict) else None) or [sub]
    first = data[0] if isinstance(data[0], dict) else {}
    part = first.get("price") or first.get("plan")
    if isinstance(part, dict):
        return str(part.get("nickname") or part.get("id") or "") or None
    return None


def subscription_signal(doc: Mapping[str, Any]) -> Signal | None:
    """The MRR change of a customer.subscription.* event, or None when its MRR did not change."""
    etype, sub = doc["type"], doc["data"]["object"]
    after, currency, unpriced = subscription_mrr(sub)
    if etype.endswith(".created"):
        before = 0.0
    elif etype.endswith(".deleted"):
        trial_end, ended = sub.get("trial_end"), sub.get("ended_at")
        in_trial = (
            isinstance(trial_end, int | float) and isinstance(ended, int | float) and trial_end >= ended
        )
        before = 0.0 if in_trial else subscription_mrr(sub, status="active")[0]
        after = 0.0
    else:
        previous = doc["data"].get("previous_attributes")
        prior = {**sub, **previous} if isinstance(previous, dict) else sub
        before = subscription_mrr(prior)[0]
    if round(after - before, 6) == 0:
        return None
    customer = _str(sub, "customer", "data.object.customer")
    attrs = {
        "event_id": doc["id"],
        "type": _change(before, after),
        "account_id": customer,
        "subscription_id": _str(sub, "id", "data.object.id"),
        "plan": _plan_of(sub),
        "currency": (currency or "").upper() or None,
        "mrr_before": round(before, 6),
        "mrr_delta": round(after - before, 6),
        "status": sub.get("status"),
        "unpriced_items": unpriced,
        "stripe_event": etype,
    }
    return Signal("billing_event", _at(doc.get("created"), "created"), None, attrs, key=doc["id"])


def subscription_state_signal(doc: Mapping[str, Any]) -> Signal:
    """The subscription as a customer.subscription.* event shows it: what the accounts-at-risk rows
    need (runs/churn_risk.py). `list_mrr` is the MRR the subscription bills while paid up (its items
    priced as if `active`), so an `unpaid` subscription, which counts no MRR, still says how much
    is at risk; a deleted subscription is `canceled` (no longer at risk: churned)."""
    etype, sub = doc["type"], doc["data"]["object"]
    list_mrr, currency, _ = subscription_mrr(sub, status="active")
    status = "canceled" if etype.endswith(".deleted") else sub.get("status")
    attrs = {
        "event_id": doc["id"],
        "account_id": _str(sub, "customer", "data.object.customer"),
        "subscription_id": _str(sub, "id", "data.object.id"),
        "status": status,
        "cancel_at_period_end": sub.get("cancel_at_period_end") is True,
        "cancel_at": _num(sub.get("cancel_at")),
        "canceled_at": _num(sub.get("canceled_at")),
        "current_period_end": _num(sub.get("current_period_end")),
        "list_mrr": round(list_mrr, 6),
        "currency": (currency or "").upper() or None,
        "plan": _plan_of(sub),
        "stripe_event": etype,
    }
    return Signal(
        "subscription_state", _at(doc.get("created"), "created"), None, attrs, key=f"state:{doc['id']}"
    )


def _revenue(doc: Mapping[str, Any], obj: Mapping[str, Any], kind: str, amount_minor: Any, status: str,
             at: datetime, object_id: str, path: str) -> Signal:  # fmt: skip
    amount = _num(amount_minor)
    if amount is None or amount < 0:
        raise InvalidPayload(f"field '{path}' must be a non-negative amount", details={"path": path})
    currency = obj.get("currency")
    if not isinstance(currency, str) or not currency:
        raise InvalidPayload("required field 'data.object.currency' is missing", details={"path": "currency"})
    customer = obj.get("customer")
    attrs = {
        "event_id": doc["id"],
        "type": kind,
        "object_id": object_id,
        "charge_id": obj.get("charge"),
        "customer": customer.get("id") if isinstance(customer, dict) else customer,
        "amount": round(amount / minor_unit(currency), 6),
        "currency": currency.upper(),
        "status": status,
        "event_created": _num(doc.get("created")),
        "stripe_event": doc["type"],
    }
    return Signal("revenue_event", at, None, attrs, key=f"{kind}:{object_id}")


def invoice_signal(doc: Mapping[str, Any]) -> Signal:
    inv = doc["data"]["object"]
    paid_at = (inv.get("status_transitions") or {}).get("paid_at")
    at = (
        _at(paid_at, "data.object.status_transitions.paid_at")
        if paid_at
        else _at(doc.get("created"), "created")
    )
    invoice_id = _str(inv, "id", "data.object.id")
    return _revenue(
        doc, inv, "invoice", inv.get("amount_paid"), "paid", at, invoice_id, "data.object.amount_paid"
    )


def refund_signals(doc: Mapping[str, Any]) -> list[Signal]:
    obj = doc["data"]["object"]
    if doc["type"] != "charge.refunded":
        at = _at(obj.get("created"), "data.object.created")
        status = str(obj.get("status") or "succeeded")
        return [_revenue(doc, obj, "refund", obj.get("amount"), status, at, _str(obj, "id", "data.object.id"),
                         "data.object.amount")]  # fmt: skip
    refunds = (obj.get("refunds") or {}).get("data") if isinstance(obj.get("refunds"), dict) else None
    charge = _str(obj, "id", "data.object.id")
    if not refunds:  # API versions since 2022-11-15 do not embed the refunds: the charge's total
        at = _at(doc.get("created"), "created")
        return [_revenue(doc, obj, "refund", obj.get("amount_refunded"), "succeeded", at, f"charge:{charge}",
                         "data.object.amount_refunded")]  # fmt: skip
    out = []
    for i, r in enumerate(refunds):
        path = f"data.object.refunds.data.{i}"
        if not isinstance(r, dict):
            raise InvalidPayload(f"'{path}' must be a refund object", details={"path": path})
        r = {"currency": obj.get("currency"), "customer": obj.get("customer"), **r, "charge": charge}
        out.append(_revenue(doc, r, "refund", r.get("amount"), str(r.get("status") or "succeeded"),
                            _at(r.get("created"), f"{path}.created"), _str(r, "id", f"{path}.id"),
                            f"{path}.amount"))  # fmt: skip
    return out


class StripeSource:
    name = "stripe"
    retention_days = 800

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_signature(request.header(HEADER), request.body, secrets, clock.now())

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = _event(request.body)
        etype, event_id = doc["type"], doc["id"]
        if etype in SUBSCRIPTION_EVENTS:
            signal = subscription_signal(doc)  # None: the subscription's MRR did not change
            state = subscription_state_signal(doc)
            return ParsedDelivery(etype, event_id, [state] if signal is None else [signal, state])
        if etype in INVOICE_EVENTS:
            return ParsedDelivery(etype, event_id, [invoice_signal(doc)])
        if etype == "charge.refunded" or etype in REFUND_EVENTS:
            return ParsedDelivery(etype, event_id, refund_signals(doc))
        return ParsedDelivery(etype, event_id, ignored_reason=f"Stripe event '{etype}' is not read")
