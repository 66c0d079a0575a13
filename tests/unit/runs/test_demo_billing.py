"""The demo's billing history (infra/local/demo_billing.py) gives realistic business numbers: for both
demo tenants, every period's ARR growth in the single or low double digits and NRR within 95-125 %,
differing by period, and none of them (nor their previous windows) blocked by the contracts'
plausibility rules. The generator runs on its own (no stack); the formulas and rules are the real ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from companyos.runs import contracts, formulas, validation
from companyos.runs.formulas import SignalRow

from infra.local.demo_billing import BillingProfile, billing_events
from infra.local.demo_tenants import DEMO

NOW = datetime(2025, 6, 15, 9, 30, tzinfo=UTC)  # the demo's clock (any instant: events are relative)


def deliveries(tenant_id: str, accounts: int) -> dict[str, dict[str, dict[str, float | None]]]:
    events = billing_events(tenant_id, BillingProfile(accounts), NOW)
    rows = [SignalRow("billing_event", e["id"], datetime.fromisoformat(e["occurred_at"]), e) for e in events]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for kpi in ("arr_growth_rate", "net_revenue_retention"):
        builtin = formulas.BUILTINS[kpi]
        daily, _ = formulas.accumulate(builtin.fold({"billing_event": rows}, {}))
        end = NOW.date()
        out[kpi] = {
            period: {
                "value": builtin.value(daily, end, days).value,
                "previous": builtin.value(daily, end - timedelta(days=days), days).value,
            }
            for period, days in contracts.PERIODS.items()
        }
    return out


@pytest.mark.parametrize("demo", DEMO, ids=lambda d: d.tenant.id)
def test_demo_arr_growth_and_nrr_are_realistic_for_every_period(demo):
    got = deliveries(demo.tenant.id, demo.accounts)
    growth = {p: v["value"] for p, v in got["arr_growth_rate"].items()}
    nrr = {p: v["value"] for p, v in got["net_revenue_retention"].items()}
    for period in contracts.PERIODS:
        g, n = growth[period], nrr[period]
        assert g is not None and 0 < g < 30, (period, g)  # single or low double digits
        assert n is not None and 95 <= n <= 125, (period, n)
    assert len({round(g or 0, 2) for g in growth.values()}) == 4, growth  # differ by period
    assert len({round(n or 0, 2) for n in nrr.values()}) == 4, nrr


@pytest.mark.parametrize("demo", DEMO, ids=lambda d: d.tenant.id)
def test_no_demo_billing_value_is_blocked_by_the_plausibility_rules(demo):
    for kpi, values in deliveries(demo.tenant.id, demo.accounts).items():
        contract = contracts.get(kpi)
        for rule in contract.post_rules:
            for period, v in values.items():
                ok, details = validation.check_post(
                    rule, v["value"], v["previous"], {"kpi_id": kpi, "tenant_id": "x"}
                )
                assert ok, (kpi, period, rule.id, details)
