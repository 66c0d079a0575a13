"""The cost model's arithmetic (tools/cost_model.py, issue #19), checked by hand: what the issue
measured — 13 realtime KPIs re-run every 5 minutes at ~6.5 Standard transitions a run — is $18.5k
a month of Step Functions at 1,000 tenants (13 x 288 x 6.5 x $0.000025 x 30.4 days x 1,000)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import cost_model

ROOT = Path(__file__).resolve().parents[2]


def figures(**per_run: float) -> dict:
    return {
        "kpis_by_class": {"realtime": 13, "hourly": 0, "daily": 0},
        "per_run": {"realtime": per_run, "hourly": {}, "daily": {}},
        "per_execution": {"realtime": {}, "hourly": {}, "daily": {}},
        "per_view": {},
        "views_per_tenant_day": 0,
    }


def test_the_issues_step_functions_bill_by_hand():
    bills = cost_model.report(figures(transitions=6.5))["bills"]
    assert bills[1_000]["step_functions"] == pytest.approx(13 * 288 * 6.5 * 0.000025 * 30.4 * 1_000)
    assert bills[1_000]["step_functions"] == pytest.approx(18_495.36)
    # the scheduler's ticks are shared: 313 a day whatever the tenants
    assert bills[100]["scheduler"] == bills[10_000]["scheduler"] == pytest.approx(313 * 30.4 / 1e6)


def test_dynamodb_lambda_and_logs_by_hand():
    f = figures(rru=10, wru=4, lambda_requests=3, lambda_gb_s=0.5, log_bytes=200_000)
    runs = 13 * 288 * 30.4 * 1_000  # a month of realtime runs at 1,000 tenants
    bill = cost_model.report(f)["bills"][1_000]
    assert bill["dynamodb"] == pytest.approx(runs * (10 * 0.125 + 4 * 0.625) / 1e6)
    assert bill["lambda"] == pytest.approx(runs * (3 * 0.20 / 1e6 + 0.5 * 0.0000133334))
    assert bill["cloudwatch_logs"] == pytest.approx(runs * 200_000 / 1e9 * 0.50)
    assert bill["total"] == pytest.approx(sum(v for k, v in bill.items() if k != "total"))


def test_views_bill_api_gateway_and_their_own_units():
    f = figures() | {"per_view": {"rru": 20}, "views_per_tenant_day": 100}
    bill = cost_model.report(f)["bills"][1_000]
    views = 100 * 30.4 * 1_000
    assert bill["api_gateway"] == pytest.approx(views * 3.50 / 1e6)
    assert bill["dynamodb"] == pytest.approx(views * 20 * 0.125 / 1e6)


def test_the_published_prices_are_the_models():
    doc = ROOT / "docs" / "cost.md"
    if not doc.exists():
        pytest.skip("docs/cost.md is written by `make cost`")
    text = doc.read_text()
    assert cost_model.PRICES_READ in text
    for usd, service, unit in cost_model.PRICES.values():
        assert re.search(rf"\| {re.escape(service)} \| {re.escape(unit)} \| {usd:.10g} \|", text), service
