"""Gross margin and CAC payback from the finance upload, Stripe revenue, the CUR cost and new MRR,
with the month grain of runs/formulas_finance.py; expected values are worked out here by hand."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

import pytest
from companyos.runs import formulas, rows
from companyos.runs.formula_base import SignalRow, accumulate
from companyos.runs.rows import RowsContext

END = date(2026, 6, 10)  # closed months: May for 7/28 days, Mar-May for 90 days


def upload(
    period: str, as_of: str, revenue: float | None, cogs: list[float], sm: float, new: int
) -> SignalRow:
    attrs = {"period": period, "currency": "USD", "as_of": as_of, "revenue": revenue, "sales_marketing": sm,
             "cogs_lines": [{"name": f"line {i}", "amount": c} for i, c in enumerate(cogs)],
             "cogs_total": sum(cogs), "new_customers": new}  # fmt: skip
    at = datetime.fromisoformat(f"{period}-01T00:00:00+00:00")
    return SignalRow("finance_month", f"f-{period}-{as_of}", at, attrs, source="finance")


def cur_days(year: int, month: int, per_day: float, days: int | None = None) -> list[SignalRow]:
    n = days or calendar.monthrange(year, month)[1]
    return [
        SignalRow(
            "cur2",
            f"lake-{year}-{month}-{d}",
            datetime(year, month, d, tzinfo=UTC),
            {"cost": per_day},
            source="lake",
        )
        for d in range(1, n + 1)
    ]


def revenue(
    kind: str, obj: str, amount: float, at: datetime, status: str = "paid", created: float = 0
) -> SignalRow:
    attrs = {"type": kind, "object_id": obj, "amount": amount, "currency": "USD", "status": status,
             "event_created": created or at.timestamp()}  # fmt: skip
    return SignalRow("revenue_event", f"r-{obj}-{created}", at, attrs, source="stripe")


def billing(account: str, at: datetime, before: float, delta: float) -> SignalRow:
    attrs = {"account_id": account, "mrr_before": before, "mrr_delta": delta}
    return SignalRow("billing_event", f"b-{account}-{at.isoformat()}", at, attrs, source="stripe")


def value(kpi: str, signals: dict[str, list[SignalRow]], days: int, end: date = END):
    builtin = formulas.BUILTINS[kpi]
    buckets, _ = accumulate(builtin.fold(signals, {}))
    return builtin.value(buckets, end, days)


def base() -> dict[str, list[SignalRow]]:
    return {
        "finance_month": [
            upload("2026-03", "2026-04-02T00:00:00Z", 90000.0, [5000.0], 20000.0, 4),
            upload("2026-04", "2026-05-02T00:00:00Z", 100000.0, [6000.0, 1000.0], 25000.0, 5),
            upload("2026-05", "2026-06-01T00:00:00Z", 100000.0, [9999.0], 1.0, 1),
            upload("2026-05", "2026-06-03T00:00:00Z", 110000.0, [8000.0, 2000.0], 30000.0, 6),  # newer: wins
        ],
        "cur2": cur_days(2026, 3, 500.0) + cur_days(2026, 4, 600.0) + cur_days(2026, 5, 700.0),
        "billing_event": [
            billing("cus_a", datetime(2026, 5, 4, tzinfo=UTC), 0.0, 1500.0),  # new
            billing("cus_a", datetime(2026, 5, 20, tzinfo=UTC), 0.0, 500.0),  # expansion: not new MRR
            billing("cus_b", datetime(2026, 5, 9, tzinfo=UTC), 0.0, 1000.0),  # new
            billing("cus_c", datetime(2026, 4, 9, tzinfo=UTC), 0.0, 2000.0),  # new in April
        ],
    }


def test_gross_margin_of_the_last_closed_month_counts_the_cur_cost_in_cogs():
    may = 110000.0, 8000.0 + 2000.0 + 700.0 * 31
    expected = 100 * (may[0] - may[1]) / may[0]
    for days in (7, 28):
        out = value("gross_margin", base(), days)
        assert out.value == pytest.approx(expected)
    assert out.detail and out.detail["months"] == ["2026-05"] and out.detail["infra_cost"] == 700.0 * 31


def test_ninety_days_sum_three_months_before_the_ratio():
    rev = 90000.0 + 100000.0 + 110000.0
    cost = 5000.0 + 7000.0 + 10000.0 + 500.0 * 31 + 600.0 * 30 + 700.0 * 31
    assert value("gross_margin", base(), 90).value == pytest.approx(100 * (rev - cost) / rev)


def test_a_month_without_an_upload_or_full_cur_coverage_is_unknown_naming_it():
    out = value("gross_margin", base(), 365)
    assert out.value is None and "no finance upload for 2026-02" in (out.reason or "")
    partial = base() | {"cur2": cur_days(2026, 5, 700.0, days=20)}
    out = value("gross_margin", partial, 28)
    assert out.value is None and "covers 20 of its 31 days" in (out.reason or "")


def test_without_uploaded_revenue_stripe_invoices_minus_live_refunds_are_the_revenue():
    signals = base()
    signals["finance_month"] = [upload("2026-05", "2026-06-03T00:00:00Z", None, [8000.0], 30000.0, 6)]
    may = datetime(2026, 5, 12, tzinfo=UTC)
    signals["revenue_event"] = [
        revenue("invoice", "in_1", 40000.0, may, created=1),
        revenue("invoice", "in_1", 40000.0, may, created=2),  # invoice.paid and payment_succeeded: once
        revenue("invoice", "in_2", 20000.0, may),
        revenue("refund", "re_1", 1000.0, may, "succeeded", created=1),
        revenue("refund", "re_2", 3000.0, may, "succeeded", created=1),
        revenue("refund", "re_2", 3000.0, may, "failed", created=2),  # the newest event: it failed
    ]
    rev = 40000.0 + 20000.0 - 1000.0
    cost = 8000.0 + 700.0 * 31
    assert value("gross_margin", signals, 28).value == pytest.approx(100 * (rev - cost) / rev)
    signals["revenue_event"] = []
    out = value("gross_margin", signals, 28)
    assert out.value is None and "no revenue and no Stripe invoice" in (out.reason or "")


def test_a_finance_month_in_another_currency_than_the_cur_is_unknown():
    signals = base()
    signals["finance_month"][3].attributes["currency"] = "EUR"  # type: ignore[index]
    out = value("gross_margin", signals, 28)
    assert out.value is None and "EUR" in (out.reason or "")


def test_cac_payback_is_spend_over_new_mrr_times_gross_margin():
    may_margin = (110000.0 - 10000.0 - 700.0 * 31) / 110000.0
    new_mrr = 1500.0 + 1000.0  # cus_a's second change is an expansion
    out = value("cac_payback_period", base(), 28)
    assert out.value == pytest.approx(30000.0 / (new_mrr * may_margin))
    assert out.detail and out.detail["new_mrr"] == new_mrr and out.detail["sales_marketing"] == 30000.0
    no_new = base() | {"billing_event": []}
    out = value("cac_payback_period", no_new, 28)
    assert out.value is None and "no new MRR in 2026-05" in (out.reason or "")


def test_rows_show_each_months_cogs_lines_the_cur_line_and_the_cac_inputs():
    ctx = RowsContext("t", datetime(2026, 6, 10, 9, 30, tzinfo=UTC), {})
    fin = rows.builder("gross_margin")(base(), ctx, 28)["finance_inputs"]  # type: ignore[misc]
    (may,) = fin["months"]
    assert [c["name"] for c in may["cogs_lines"]] == ["line 0", "line 1", "AWS (CUR 2.0, amortized)"]
    assert may["cogs"] == 10000.0 + 700.0 * 31 and may["revenue_from"] == "upload"
    objects = {s["object"]: s["count"] for s in fin["evidence"]["sources"]}
    assert objects == {"finance.finance_month": 4, "lake.cur2": 31 + 30 + 31}
    cac = rows.builder("cac_payback_period")(base(), ctx, 28)["cac_inputs"]  # type: ignore[misc]
    assert cac["months"][0]["cac"] == 30000.0 / 6 and cac["months"][0]["new_mrr"] == 2500.0


def test_movement_rows_sum_each_type_per_customer():
    ctx = RowsContext("t", datetime(2026, 6, 10, 9, 30, tzinfo=UTC), {})
    entry = rows.builder("net_revenue_retention")(base(), ctx, 90)["revenue_movements"]  # type: ignore[misc]
    by = {i["id"]: i for i in entry["items"]}
    assert by["new"]["mrr"] == 1500.0 + 1000.0 + 2000.0 and by["new"]["customers"] == 3
    assert by["expansion"]["mrr"] == 500.0 and by["churn"]["mrr"] == 0
    assert entry["net_new_mrr"] == 1500.0 + 1000.0 + 2000.0 + 500.0


def test_the_finance_packs_cur_query_is_costquerys_amortized_daily_sql():
    from companyos.adapters import lake
    from companyos.runs import contracts
    from companyos.sources.cur import CostQuery

    class _Athena:
        engine = "athena"

    expected = lake.sql_hash(CostQuery(_Athena(), table="cur2").daily_sql("amortized"))  # type: ignore[arg-type]
    for kpi in ("gross_margin", "cac_payback_period"):
        c = contracts.get(kpi)
        (ref,) = [s for s in c.sources if s.source_type == "lake"]
        assert lake.sql_hash(ref.query or "") == expected and c.formula.lake == "cur_{tenant}"
        assert lake.sql_hash(ref.query or "") == lake.sql_hash(
            contracts.get("infra_cost_mtd").formula.sql or ""
        )
