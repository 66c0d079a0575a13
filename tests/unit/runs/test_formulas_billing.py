"""ARR growth and NRR from a small hand-made billing history, worked by hand (formulas_billing.py):
both are year-over-year measures averaged over the period's days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from companyos.runs import formulas, validation
from companyos.runs.contracts import get
from companyos.runs.formulas import SignalRow

END = date(2024, 3, 1)  # 2024 is a leap year: the 7 days are Feb 24 .. Mar 1 (Feb 29 included)


def bill(i: int, day: date, account: str, **attrs: Any) -> SignalRow:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return SignalRow("billing_event", f"b-{i}", at, {"account_id": account, **attrs})


HISTORY = [
    bill(1, date(2022, 1, 10), "A", mrr_before=0, mrr_after=1000),  # A: a customer for years
    # D's first event says it paid 800 before: it was a customer before the history starts
    bill(2, date(2023, 1, 5), "D", mrr_before=800, mrr_after=400),
    bill(3, date(2022, 6, 1), "B", mrr_before=0, mrr_after=500),
    bill(4, date(2023, 12, 15), "B", mrr_before=500, mrr_after=0),  # B churns within the year
    bill(5, date(2023, 10, 1), "C", mrr_before=0, mrr_after=300),  # C: new within the year
    bill(6, date(2024, 2, 28), "C", mrr_delta=300),  # C doubles (delta only: 300 + 300)
    bill(7, date(2024, 2, 27), "A", mrr_before=1000, mrr_after=1500),  # A expands in the window
]


def buckets(rows: list[SignalRow]) -> Any:
    fold = formulas.BUILTINS["arr_growth_rate"].fold
    return formulas.accumulate(fold({"billing_event": rows}, {}))[0]


def test_arr_growth_is_the_windows_average_arr_against_the_same_days_a_year_earlier():
    # A year earlier (d - 365 for d in Feb 24 .. Mar 1 2024: Feb 24 .. Mar 2 2023), every day:
    #   A 1000 + B 500 + D 400 (contracted Jan 5 2023; its 800 opened at the history start) = 1900
    #   sum over the 7 days = 7 x 1900 = 13,300
    # The window (Feb 24 .. Mar 1 2024):
    #   A: 1000 on Feb 24-26, 1500 on Feb 27, 28, 29, Mar 1   -> 3 x 1000 + 4 x 1500 = 9,000
    #   C: 300 on Feb 24-27, 600 on Feb 28, 29, Mar 1         -> 4 x 300 + 3 x 600   = 3,000
    #   D: 400 every day                                        -> 7 x 400            = 2,800
    #   B: churned                                                                    = 0
    #   sum = 14,800
    # growth = 14,800 / 13,300 - 1 = 11.278 %
    got = formulas.BUILTINS["arr_growth_rate"].value(buckets(HISTORY), END, 7)
    assert got.value == pytest.approx(100 * (14800 / 13300 - 1))


def test_nrr_keeps_the_customers_of_a_year_earlier_and_leaves_new_ones_out():
    # The cohort of each day d is who paid on d - 365: A, B and D (C started Oct 2023: not in it).
    # Their MRR on d: A (1000, then 1500 from Feb 27) + D 400 + B 0 (churned Dec 15 2023)
    #   Feb 24-26: 1000 + 400 = 1,400 (x3);  Feb 27 .. Mar 1: 1500 + 400 = 1,900 (x4)
    #   sum = 4,200 + 7,600 = 11,800 against the 13,300 they paid a year earlier
    # NRR = 11,800 / 13,300 = 88.72 % (C's expansion is growth, not retention)
    got = formulas.BUILTINS["net_revenue_retention"].value(buckets(HISTORY), END, 7)
    assert got.value == pytest.approx(100 * 11800 / 13300)


def test_a_comparison_window_before_the_billing_history_is_unknown_with_the_reason():
    # the 365-day window a year earlier starts 2022-03-03 (covered: history from 2022-01-10) ...
    whole_year = formulas.BUILTINS["arr_growth_rate"].value(buckets(HISTORY), END, 365)
    assert whole_year.value is not None
    # ... its previous window's comparison would start 2021-03-03: before any billing event read
    previous = formulas.BUILTINS["arr_growth_rate"].value(buckets(HISTORY), date(2023, 3, 2), 365)
    assert previous.value is None
    assert previous.reason is not None and "history starts 2022-01-10" in previous.reason
    assert formulas.BUILTINS["net_revenue_retention"].value(buckets([]), END, 7).value is None


def test_a_negative_mrr_fails_the_contracts_non_negative_pre_rule():
    rows = [*HISTORY, bill(8, date(2024, 2, 29), "E", mrr_before=0, mrr_after=-50)]
    daily = buckets(rows)
    contract = get("net_revenue_retention")
    rule = next(r for r in contract.pre_rules if r.type == "non_negative")
    ok, details = validation.check_pre(rule, {"daily": daily}, datetime(2024, 3, 1, tzinfo=UTC))
    assert not ok and rule.severity == "error" and details == "1 negative values in the inputs"
