"""Stripe webhooks and the finance upload through HTTP on the embedded stack, then gross margin, CAC
payback and the MRR movements through the kpi_run state machine.

Stripe bodies are the real ones of shared/fixtures/real/stripe/ (Zulip's fixtures, pay-rails' charge),
posted byte for byte; the bodies of the run test are copies of them with other ids, amounts and times.
Expected values are worked out here: plain sums over those bodies, the uploads, and plain DuckDB SQL
over the CUR export (`cost_between`, written independently of CostQuery).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis
from tests.integration.test_cost_contracts import cost_between
from tests.integration.test_pipeline_runs import attempts

TENANT = "finco"
STRIPE_SECRET = "whsec_finco_test"
FINANCE_SECRET = "finco-finance"
AS_OF = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # before the session clock: every delivery below counts
_names = itertools.count()


def stripe_header(body: bytes, t: int | None = None, secret: str = STRIPE_SECRET) -> str:
    from companyos.domain import clock

    t = int(clock.now().timestamp()) if t is None else t
    return f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def post_stripe(local: Running, body: bytes, header: str | None = None):
    headers = {"Content-Type": "application/json", "Stripe-Signature": header or stripe_header(body)}
    return local.client.request("POST", f"/api/ingest/stripe?tenant={TENANT}", body, headers)


def post_finance(local: Running, body: bytes, content_type: str = "application/json"):
    sig = hmac.new(FINANCE_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-CompanyOS-Signature": f"sha256={sig}"}
    return local.client.request("POST", f"/api/ingest/finance?tenant={TENANT}", body, headers)


def stored(kind: str, delivery_id: str | None = None) -> list[Any]:
    from companyos.adapters.repos import SignalStore

    found = SignalStore(TENANT).query(
        kind, datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    return [s for s in found if delivery_id is None or s.delivery_id == delivery_id]


@pytest.fixture(scope="module")
def cur_export(tmp_path_factory) -> str:
    from companyos.sources import cur

    from infra.local.demo_cur import DemoAccount, write_demo_cur

    folder = tmp_path_factory.mktemp("cur2-finco")
    accounts = [DemoAccount("777788889999", "prod", ("api",), 300.0)]
    write_demo_cur(folder, accounts, date(2026, 3, 1), 101, seed="finco")  # Mar 1 - Jun 9 2026
    return cur.parquet_glob(folder)


@pytest.fixture(scope="module")
def finco(local: Running, cur_export: str) -> TenantFixture:
    from companyos.adapters import lake

    t = make_tenant(local, TENANT, "Fin Co")
    local.stack.put_webhook_secret(TENANT, "stripe", STRIPE_SECRET)
    local.stack.put_webhook_secret(TENANT, "finance", FINANCE_SECRET)
    lake.register(f"cur_{TENANT}", lake.DuckDbLake({"cur2": cur_export}))
    return t


STRIPE = [
    "zulip-customer_subscription_created.json",
    "zulip-customer_subscription_updated.json",
    "zulip-invoice_payment_succeeded.json",
    "zulip-refund_event-charge.refund.updated.json",
]


def test_each_real_stripe_event_is_stored_once_and_bad_deliveries_store_nothing(local, finco):
    for name in STRIPE:
        body = real_fixture(f"stripe/{name}")
        event_id = json.loads(body)["id"]
        first = post_stripe(local, body)
        assert first.status == 200 and first.body["status"] == "stored", (name, first.body)
        again = post_stripe(local, body)  # Stripe's retry: the same event id
        assert again.status == 202 and again.body["status"] == "duplicate"
        kind = "billing_event" if "subscription" in name else "revenue_event"
        assert len(stored(kind, event_id)) == 1, name
    # Zulip's deleted fixture reuses the created one's event id: by Stripe's rule, the same event
    deleted = post_stripe(local, real_fixture("stripe/zulip-customer_subscription_deleted.json"))
    assert deleted.body["status"] == "duplicate"

    body = real_fixture("stripe/zulip-invoice_payment_succeeded.json")
    doc = json.loads(body) | {"id": "evt_never_stored"}
    fresh = json.dumps(doc).encode()
    forged = post_stripe(local, fresh, stripe_header(fresh, secret="whsec_someone_else"))
    assert forged.status == 401 and forged.body["code"] == "signature_invalid"
    from companyos.domain import clock

    stale = post_stripe(local, fresh, stripe_header(fresh, t=int(clock.now().timestamp()) - 301))
    assert stale.status == 401 and stale.body["code"] == "signature_expired"
    no_t = post_stripe(local, fresh, stripe_header(fresh).split(",", 1)[1])
    assert no_t.status == 401 and no_t.body["code"] == "signature_missing"
    malformed = b'{"id": "evt_never_stored", "object": "event", "type": "invoice.paid"'
    bad = post_stripe(local, malformed)
    assert bad.status == 422 and bad.body["code"] == "malformed_event"
    odd = json.dumps(doc | {"data": {"object": {**doc["data"]["object"], "amount_paid": "lots"}}}).encode()
    shape = post_stripe(local, odd)
    assert shape.status == 422 and shape.body["details"]["path"] == "data.object.amount_paid"
    assert stored("revenue_event", "evt_never_stored") == []


# ---------------------------------------------------------------------------- the runs

COGS = {"2026-03": [4000.0, 1500.0], "2026-04": [4200.0, 1600.0], "2026-05": [4400.0, 1700.0]}
REVENUE = {"2026-03": 60000.0, "2026-04": 64000.0}  # May: none in the upload, Stripe's counts
SPEND = {"2026-03": 15000.0, "2026-04": 16000.0, "2026-05": 17000.0}


def _ts(day: str) -> int:
    return int(datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp())


def subscriptions() -> list[dict[str, Any]]:
    """Copies of the real created fixture: new customers in March, April and May (USD plans)."""
    base = json.loads(real_fixture("stripe/zulip-customer_subscription_created.json"))
    out = []
    plans = [
        ("2026-03-05", 50000, 2),
        ("2026-04-07", 90000, 1),
        ("2026-05-06", 120000, 3),
        ("2026-05-20", 30000, 1),
    ]
    for n, (day, amount, qty) in enumerate(plans):
        doc = copy.deepcopy(base)
        doc["id"], doc["created"] = f"evt_sub_{n}", _ts(day)
        sub = doc["data"]["object"]
        sub.update(id=f"sub_{n}", customer=f"cus_{n}", quantity=qty)
        sub["plan"].update(amount=amount, currency="usd")
        out.append(doc)
    return out


def invoices() -> list[dict[str, Any]]:
    """Copies of the real invoice.payment_succeeded fixture, paid in May (and one in April)."""
    base = json.loads(real_fixture("stripe/zulip-invoice_payment_succeeded.json"))
    out = []
    paid_at = [
        ("2026-05-06", 3600000),
        ("2026-05-15", 2100000),
        ("2026-05-28", 1500000),
        ("2026-04-28", 99999),
    ]
    for n, (day, paid) in enumerate(paid_at):
        doc = copy.deepcopy(base)
        doc["id"], doc["created"] = f"evt_inv_{n}", _ts(day)
        doc["data"]["object"].update(id=f"in_{n}", amount_paid=paid, amount_due=paid, amount_remaining=0)
        out.append(doc)
    return out


def refund() -> dict[str, Any]:
    """pay-rails' charge.refunded data (one refund of 500 cents), its refund made in May."""
    data = json.loads(real_fixture("stripe/pay-rails-charge.refunded-data.json"))
    data["object"]["refunds"]["data"][0]["created"] = _ts("2026-05-29")
    at = _ts("2026-05-29")
    return {"id": "evt_refund_may", "object": "event", "type": "charge.refunded", "created": at, "data": data}


def finance_uploads() -> tuple[bytes, bytes, bytes]:
    months = [
        {"period": p, "currency": "USD", "as_of": f"{p}-28T00:00:00Z", "revenue": REVENUE[p],
         "cogs": [{"name": f"line {i}", "amount": a} for i, a in enumerate(COGS[p])],
         "sales_marketing": SPEND[p], "new_customers": 1}
        for p in ("2026-03", "2026-04")
    ]  # fmt: skip
    early_may = {"period": "2026-05", "currency": "USD", "as_of": "2026-06-01T00:00:00Z", "revenue": 1.0,
                 "cogs": [], "sales_marketing": 1.0, "new_customers": 0}  # fmt: skip
    rows = [f"2026-05,USD,2026-06-04T09:00:00Z,cogs,line {i},{a}" for i, a in enumerate(COGS["2026-05"])]
    rows += ["2026-05,USD,2026-06-04T09:00:00Z,sales_marketing,Ads,12000",
             "2026-05,USD,2026-06-04T09:00:00Z,sales_marketing,Sales,5000",
             "2026-05,USD,2026-06-04T09:00:00Z,new_customers,,2"]  # fmt: skip
    csv = "period,currency,as_of,item,name,amount\n" + "\n".join(rows) + "\n"
    return json.dumps({"months": months}).encode(), json.dumps({"months": [early_may]}).encode(), csv.encode()


def run(local: Running, kpis: list[str]) -> dict[str, Any]:
    return run_kpis(local, TENANT, kpis, AS_OF, f"finance-{next(_names)}")


@pytest.fixture(scope="module")
def finance_runs(local: Running, finco: TenantFixture) -> dict[str, dict[str, Any]]:
    for doc in [*subscriptions(), *invoices(), refund()]:
        answer = post_stripe(local, json.dumps(doc).encode())
        assert answer.body["status"] == "stored", answer.json()
    months, early_may, csv = finance_uploads()
    for body, ctype in ((months, "application/json"), (early_may, "application/json"), (csv, "text/csv")):
        answer = post_finance(local, body, ctype)
        assert answer.status == 200, answer.json()
    kpis = ["gross_margin", "cac_payback_period", "net_revenue_retention"]
    run(local, kpis)
    return {k: attempts(TENANT, k)[-1] for k in kpis}


def may_revenue() -> float:
    paid = sum(i["data"]["object"]["amount_paid"] for i in invoices() if i["id"] != "evt_inv_3") / 100
    return paid - sum(r["amount"] for r in refund()["data"]["object"]["refunds"]["data"]) / 100


def margins(cur_export: str) -> dict[str, tuple[float, float]]:
    """(revenue, COGS incl. the month's CUR cost) per month."""
    ends = {"2026-03": "31", "2026-04": "30", "2026-05": "31"}
    revenue = REVENUE | {"2026-05": may_revenue()}
    return {
        p: (revenue[p], sum(COGS[p]) + cost_between(cur_export, f"{p}-01", f"{p}-{ends[p]}")) for p in ends
    }


def test_gross_margin_is_the_last_closed_months_with_its_cur_cost_in_cogs(finance_runs, cur_export):
    attempt = finance_runs["gross_margin"]
    assert attempt["end"][0]["status"] == "success", attempt["end"][0].get("error_message")
    values = attempt["delivery"][0]["values"]
    m = margins(cur_export)
    rev, cost = m["2026-05"]
    assert values["28d"]["value"] == pytest.approx(100 * (rev - cost) / rev, rel=1e-9)
    assert values["7d"]["value"] == values["28d"]["value"]
    rev3, cost3 = sum(v[0] for v in m.values()), sum(v[1] for v in m.values())
    assert values["90d"]["value"] == pytest.approx(100 * (rev3 - cost3) / rev3, rel=1e-9)
    assert values["365d"]["value"] is None and "no finance upload for 2026-02" in values["365d"]["reason"]
    (rows,) = attempt["rows"]
    (may,) = rows["periods"]["28d"]["finance_inputs"]["months"]
    assert may["revenue_from"] == "stripe" and may["stripe_refunds"] == 5.0
    assert [c["name"] for c in may["cogs_lines"]] == ["line 0", "line 1", "AWS (CUR 2.0, amortized)"]
    sources = {s["source_object"] for s in attempt["sourcing"]}
    assert sources == {"finance.monthly_close", "stripe.invoices_and_refunds", "cur2.amortized_cost_per_day"}


def test_cac_payback_is_may_spend_over_its_new_mrr_times_its_margin(finance_runs, cur_export):
    attempt = finance_runs["cac_payback_period"]
    assert attempt["end"][0]["status"] == "success", attempt["end"][0].get("error_message")
    rev, cost = margins(cur_export)["2026-05"]
    new_mrr = sum(
        s["data"]["object"]["plan"]["amount"] * s["data"]["object"]["quantity"] / 100
        for s in subscriptions()
        if datetime.fromtimestamp(s["created"], UTC).month == 5
    )
    expected = (12000 + 5000) / (new_mrr * (rev - cost) / rev)
    assert attempt["delivery"][0]["values"]["28d"]["value"] == pytest.approx(expected, rel=1e-9)
    (cac,) = attempt["rows"][0]["periods"]["28d"]["cac_inputs"]["months"]
    assert cac["new_customers"] == 2 and cac["cac"] == 17000 / 2


def test_stripe_subscriptions_are_mrr_movements_of_the_billing_kpis(finance_runs):
    attempt = finance_runs["net_revenue_retention"]
    entry = attempt["rows"][0]["periods"]["365d"]["revenue_movements"]
    new = next(i for i in entry["items"] if i["id"] == "new")
    expected = sum(
        s["data"]["object"]["plan"]["amount"] * s["data"]["object"]["quantity"] / 100 for s in subscriptions()
    )
    assert new["mrr"] == pytest.approx(expected) and new["customers"] == len(subscriptions())
    # no billing history a year back: NRR is Unknown with the reason, never a number
    assert attempt["delivery"][0]["values"]["28d"]["value"] is None


def test_a_tenant_without_a_cur_export_gets_the_reason_not_a_margin_without_aws(local, finance_runs):
    make_tenant(local, "fincur0", "No CUR Co")
    run_kpis(local, "fincur0", ["gross_margin"], AS_OF, f"finance-nocur-{next(_names)}")
    (attempt,) = attempts("fincur0", "gross_margin")
    assert attempt["end"][0]["status"] == "failed" and "lake_not_configured" in str(attempt["end"][0])
