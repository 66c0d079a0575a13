"""The demo's Stripe events and finance uploads reach the runs: Northwind's gross margin and CAC payback
are delivered with their evidence (the finance upload, Stripe, the CUR export), and its ARR growth and
NRR — now fed by its billing-format accounts and its Stripe self-serve customers — still have values."""

from __future__ import annotations

from companyos.adapters.repos import RunLog
from companyos.runs.sourcing import latest_delivered


def test_northwind_gross_margin_and_cac_payback_are_delivered_with_evidence(local, demo):
    for kpi_id in ("gross_margin", "cac_payback_period"):
        got = latest_delivered("northwind", kpi_id)
        assert got is not None, kpi_id
        assert got["values"]["28d"] is not None and got["values"]["90d"] is not None, (kpi_id, got)
        sourcing = {r.data["source_object"]: r.data["count"] for r in RunLog("northwind").rows(got["run_id"])
                    if r.record == "sourcing"}  # fmt: skip
        assert sourcing["finance.monthly_close"] >= 12 and sourcing["cur2.amortized_cost_per_day"] > 60
        assert sourcing["stripe.invoices_and_refunds"] > 0, sourcing
    margin = latest_delivered("northwind", "gross_margin")["values"]["28d"]  # type: ignore[index]
    assert 50 < margin < 95


def test_northwind_arr_and_nrr_still_have_values(local, demo):
    for kpi_id in ("arr_growth_rate", "net_revenue_retention"):
        got = latest_delivered("northwind", kpi_id)
        assert got is not None and got["values"]["28d"] is not None, (kpi_id, got)


def test_globex_revenue_comes_from_stripe(local, demo):
    got = latest_delivered("globex", "gross_margin")
    assert got is not None and got["values"]["28d"] is not None
    (rows,) = [r.data for r in RunLog("globex").rows(got["run_id"]) if r.record == "rows"]
    (month,) = rows["periods"]["28d"]["finance_inputs"]["months"]
    assert month["revenue_from"] == "stripe" and month["stripe_invoiced"] > 0
