"""test_coverage: the newest report of each repository, weighted by lines, as a level (the value at
a period's end; `previous` at the end of the period before); rows per service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from companyos.runs import formulas
from companyos.runs.formula_base import SignalRow, accumulate
from companyos.runs.rows import RowsContext, builder

END = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def report(repo: str, days_ago: float, covered: int, valid: int, service: str | None = "svc", n: int = 0):
    attrs = {"lines_covered": covered, "lines_valid": valid, "format": "lcov", "commit": f"{n:07x}"}
    at = END - timedelta(days=days_ago)
    return SignalRow(
        "coverage_report", f"{repo}-{days_ago}-{n}", at, attrs, repo, service, "coverage", f"d{n}"
    )


REPORTS = [
    report("acme/api", 40, 100, 400, "api"),  # superseded by the newer api report
    report("acme/api", 3, 300, 400, "api"),
    report("acme/web", 10, 50, 100, "web"),
    report("acme/web-e2e", 2, 10, 100, "web"),  # a second repository of the web service
    report("acme/old", 120, 99, 100, "old"),  # older than the 90-day limit: out
    report("acme/x", 1, 0, 0, None),  # no lines: not a usable report
]


def value(rows, days: int, end=END, params=None):
    builtin = formulas.BUILTINS["test_coverage"]
    buckets, _ = accumulate(builtin.fold({"coverage_report": rows}, params or {"max_report_age_days": 90}))
    return builtin.value(buckets, end.date(), days)


def test_the_value_is_the_newest_report_per_repository_weighted_by_lines():
    out = value(REPORTS, 7)
    assert out.value == pytest.approx(100 * (300 + 50 + 10) / (400 + 100 + 100))
    assert out.detail == {"lines_covered": 360, "lines_valid": 600, "repositories": 3}
    assert value(REPORTS, 28).value == out.value  # a level: the same at the end of every period


def test_previous_is_the_level_at_the_end_of_the_period_before():
    # 28 days before END: only api's older report; web's were not there yet, old was 92 days old
    out = value(REPORTS, 28, END - timedelta(days=28))
    assert out.value == pytest.approx(100 * 100 / 400)


def test_a_repository_that_stops_reporting_ages_out():
    only = [report("acme/api", 10, 30, 60, "api")]
    assert value(only, 7, params={"max_report_age_days": 11}).value == pytest.approx(50.0)
    gone = value(only, 7, params={"max_report_age_days": 10})
    assert gone.value is None and "no repository has a coverage report within" in (gone.reason or "")
    assert value(only, 7, END - timedelta(days=11)).value is None  # before any report


def test_the_report_age_limit_must_be_a_positive_number_of_days():
    with pytest.raises(ValueError, match="max_report_age_days"):
        value(REPORTS, 7, params={"max_report_age_days": 0})


def test_rows_are_per_service_with_their_repositories_least_covered_first():
    rows_fn = builder("test_coverage")
    assert rows_fn is not None
    entry = rows_fn({"coverage_report": REPORTS}, RowsContext("t1", END, {"max_report_age_days": 90}), 28)[
        "coverage"
    ]
    assert entry["available"] and (entry["lines_covered"], entry["lines_valid"]) == (360, 600)
    web, api = entry["items"]
    assert (web["id"], web["lines_covered"], web["lines_valid"], web["coverage_pct"]) == (
        "web",
        60,
        200,
        30.0,
    )
    assert [r["repository"] for r in web["repositories"]] == ["acme/web", "acme/web-e2e"]
    assert web["report_at"] == (END - timedelta(days=2)).isoformat() and web["format"] == "lcov"
    assert (api["coverage_pct"], api["previous_pct"]) == (75.0, 25.0)
    assert web["previous_pct"] is None  # web had no report 28 days before
