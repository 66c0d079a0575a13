"""Accounts at risk of churn end to end on the embedded stack: signed Stripe webhooks over HTTP, the
net_revenue_retention run through the kpi_run state machine (its rows, the score refresh's snapshot
panel, the alerts task after it), and the CEO's ChurnRiskAlert: firing at 3 enterprise accounts at
risk, resolved once one of them paid (2 is not more than 2).

Bodies are copies of the real `customer.subscription.created` body (shared/fixtures/real/stripe/,
Zulip's) with only ids, times, `quantity` and the at-risk fields (status, cancel_at_period_end,
for updates the type) changed. Expected numbers are worked out here from the fixture's plan.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import make_tenant, run_kpis

TENANT = "churnco"
SECRET = "whsec_churnco_test"
AS_OF = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # before the session clock: every delivery below counts


def body(sub: str, customer: str, seats: int, etype: str, at: datetime, **fields: Any) -> bytes:
    doc = json.loads(real_fixture("stripe/zulip-customer_subscription_created.json"))
    doc["id"] = f"evt_{sub}_{int(at.timestamp())}"
    doc["type"], doc["created"] = etype, int(at.timestamp())
    obj = doc["data"]["object"]
    obj.update({"id": sub, "customer": customer, "quantity": seats, **fields})
    if etype.endswith(".updated"):
        doc["data"]["previous_attributes"] = {"metadata": {}}
    return json.dumps(doc).encode()


def post(local: Running, raw: bytes) -> None:
    from companyos.domain import clock

    t = int(clock.now().timestamp())
    sig = hmac.new(SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={sig}"}
    reply = local.client.request("POST", f"/api/ingest/stripe?tenant={TENANT}", raw, headers)
    assert reply.status in (200, 202), reply.body


def seat_mrr() -> float:
    plan = json.loads(real_fixture("stripe/zulip-customer_subscription_created.json"))["data"]["object"][
        "plan"
    ]
    assert plan["interval"] == "month" and plan["currency"] == "aud"
    return plan["amount"] / 100


def enterprise_seats() -> int:
    from companyos.runs import contracts

    return int(contracts.get("net_revenue_retention").params["enterprise_mrr_min"] / seat_mrr()) + 1


def day(n: float) -> datetime:
    return AS_OF - timedelta(days=n)


@pytest.fixture(scope="module")
def churnco(local: Running) -> dict[str, Any]:
    make_tenant(local, TENANT, "Churn Co")
    local.stack.put_webhook_secret(TENANT, "stripe", SECRET)
    n = enterprise_seats()
    created, updated = "customer.subscription.created", "customer.subscription.updated"
    for i, (cust, seats) in enumerate(
        (("cus_big1", 2 * n), ("cus_big2", n + 5), ("cus_big3", n), ("cus_small", 3))
    ):
        post(local, body(f"sub_{cust}", cust, seats, created, day(40 + i)))
    post(local, body("sub_cus_big1", "cus_big1", 2 * n, updated, day(6), cancel_at_period_end=True))
    post(local, body("sub_cus_big2", "cus_big2", n + 5, updated, day(4), status="past_due"))
    post(local, body("sub_cus_big3", "cus_big3", n, updated, day(2), status="unpaid"))
    post(local, body("sub_cus_small", "cus_small", 3, updated, day(3), status="past_due"))
    return {"seats": n}


def snapshot_panel() -> dict[str, Any]:
    from companyos.adapters.repos import ScoreStore

    latest = ScoreStore(TENANT).latest("7d")
    assert latest is not None
    return dict(latest[0]["panels"]["accounts_at_risk"])


def churn_alert():
    from companyos.adapters.alerts_repo import AlertRepo

    return next((a for a in AlertRepo(TENANT).alerts().values() if a.rule_id == "ChurnRiskAlert"), None)


def test_the_nrr_run_delivers_the_accounts_at_risk_and_the_ceo_alert_fires_above_two(local, churnco):
    n, per_seat = churnco["seats"], seat_mrr()
    run_kpis(local, TENANT, ["net_revenue_retention"], AS_OF, "churn-risk-1")
    panel = snapshot_panel()
    assert panel["available"] is True
    rows = {i["customer"]: i for i in panel["items"]}
    assert list(rows) == ["cus_big1", "cus_big2", "cus_big3", "cus_small"]
    assert rows["cus_big1"]["mrr"] == pytest.approx(2 * n * per_seat) and rows["cus_big1"]["reasons"] == [
        "cancel_at_period_end"
    ]
    assert rows["cus_big2"]["reasons"] == ["past_due"] and rows["cus_big2"]["since"] == day(4).isoformat()
    assert rows["cus_big3"]["mrr"] == pytest.approx(n * per_seat) and rows["cus_big3"]["reasons"] == [
        "unpaid"
    ]
    assert rows["cus_small"]["enterprise"] is False
    assert all(r["evidence"]["type"] == "kpi_run" for r in panel["items"])  # each row names its run
    seg = {s["id"]: s for s in panel["segments"]}
    assert (seg["enterprise"]["accounts"], seg["other"]["accounts"]) == (3, 1)
    alert = churn_alert()
    assert alert is not None and alert.state == "firing" and alert.value == 3.0
    assert alert.context["run_id"] == panel["evidence"]["run_id"]

    # one enterprise customer pays: 2 left, not more than 2 — the alert resolves
    post(
        local,
        body("sub_cus_big2", "cus_big2", n + 5, "customer.subscription.updated", day(0.5), status="active"),
    )
    run_kpis(local, TENANT, ["net_revenue_retention"], AS_OF, "churn-risk-2")
    assert [s["accounts"] for s in snapshot_panel()["segments"]] == [2, 1]
    resolved = churn_alert()
    assert resolved is not None and resolved.state == "resolved"
