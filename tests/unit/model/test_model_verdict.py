"""The one verdict model: coverage caps, and the row rules that sit beside KPI values."""

from __future__ import annotations

import pytest
from companyos.domain import verdict
from companyos.domain.verdict import Band


@pytest.mark.parametrize(
    ("band", "coverage", "expected"),
    [
        (Band.EXCELLENT, 1.0, Band.EXCELLENT),
        (Band.EXCELLENT, 0.8, Band.EXCELLENT),  # 80 % measured is full enough
        (Band.EXCELLENT, 0.79, Band.ATTENTION),  # partial: capped
        (Band.HEALTHY, 0.5, Band.ATTENTION),
        (Band.WARNING, 0.6, Band.WARNING),  # a cap never improves a bad band
        (Band.CRITICAL, 0.5, Band.CRITICAL),
        (Band.HEALTHY, 0.49, Band.UNKNOWN),  # under half measured: Unknown
    ],
)
def test_coverage_caps_a_band_at_attention_and_unknown_below_half(band, coverage, expected):
    assert verdict.capped(band, coverage) is expected


def test_a_partial_note_names_the_share_and_what_is_missing():
    assert verdict.partial_note(0.62, ["product", "compliance_score"]) == (
        "partial: 62 % measured, missing product, compliance_score"
    )
    assert verdict.partial_note(0.85, ["x"]) is None


def test_periods_whose_coverage_differs_by_more_than_10_points_are_not_a_trend():
    assert verdict.comparable(0.80, 0.72)
    assert not verdict.comparable(0.95, 0.80)
    assert not verdict.comparable(None, 0.9)


@pytest.mark.parametrize(
    ("attainment", "budget_left", "expected"),
    [
        (99.97, 0.7, Band.EXCELLENT),  # stretch 99.95 passed
        (99.9, 0.0001, Band.HEALTHY),  # at the 99.9 % objective
        (99.81, 0.1, Band.ATTENTION),  # 40 + 40 * 0.31 / 0.4 = 71: misses the objective
        (99.95, -0.378, Band.CRITICAL),  # budget overspent: Critical whatever the attainment
        (None, None, Band.UNKNOWN),
    ],
)
def test_a_services_slo_row_follows_the_slo_attainment_kpi_and_its_budget(attainment, budget_left, expected):
    assert verdict.slo_row(attainment, budget_left) is expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.4, Band.EXCELLENT), (1.0, Band.HEALTHY), (1.38, Band.ATTENTION), (2.13, Band.ATTENTION),
     (4.5, Band.WARNING), (7.0, Band.CRITICAL)],
)  # fmt: skip
def test_a_burn_rate_above_1x_is_never_healthy(rate, expected):
    # 1.38x: 40 + 40 * (6 - 1.38) / 5 = 76.96; 2.13x: 70.96; 4.5x: 52
    assert verdict.burn(rate) is expected


def test_a_service_is_operational_only_without_bad_slos_or_open_p1_p2():
    assert verdict.operational([Band.HEALTHY, Band.ATTENTION], ["P3"])
    assert not verdict.operational([Band.HEALTHY, Band.CRITICAL], [])
    assert not verdict.operational([Band.EXCELLENT], ["P2"])
    assert verdict.service([Band.HEALTHY], ["P1"]) is Band.CRITICAL
    assert verdict.service([], []) is Band.UNKNOWN


@pytest.mark.parametrize(
    ("severity", "open_", "overdue", "soon", "expected"),
    [
        ("critical", 4, 0, 0, Band.CRITICAL),  # any open critical CVE
        ("high", 2, 1, 0, Band.CRITICAL),
        ("high", 2, 0, 0, Band.HEALTHY),  # open within its SLA
        ("medium", 3, 1, 0, Band.WARNING),
        ("low", 1, 0, 1, Band.ATTENTION),
        ("low", 0, 0, 0, Band.HEALTHY),
    ],
)
def test_open_vulnerabilities_by_severity(severity, open_, overdue, soon, expected):
    assert verdict.open_findings(severity, open_, overdue, soon) is expected


def test_capacity_key_results_and_cost_rows():
    assert verdict.capacity(95.0)[0] is Band.CRITICAL
    assert verdict.capacity(85.0)[0] is Band.WARNING
    assert verdict.capacity(30.0) == (Band.ATTENTION, "over-provisioned: below 40% of its limit")
    assert verdict.capacity(65.0) == (Band.HEALTHY, None)
    assert verdict.key_result(50.0, 55.0) is Band.HEALTHY
    assert verdict.key_result(35.0, 55.0) is Band.ATTENTION
    assert verdict.key_result(20.0, 55.0) is Band.WARNING
    assert verdict.key_result(None, 55.0) is Band.UNKNOWN
    assert verdict.cost_change(-3.0) is Band.HEALTHY
    assert verdict.cost_change(8.0) is Band.ATTENTION
    assert verdict.cost_change(12.0) is Band.WARNING


def test_worst_and_three_way_and_parse():
    assert verdict.worst([Band.HEALTHY, "warning", Band.UNKNOWN]) is Band.WARNING
    assert verdict.worst([Band.UNKNOWN]) is Band.UNKNOWN
    assert [verdict.three_way(b) for b in Band] == [
        "HEALTHY", "HEALTHY", "ATTENTION", "CRITICAL", "CRITICAL", "UNKNOWN"
    ]  # fmt: skip
    assert verdict.parse("Critical") is Band.CRITICAL and verdict.parse("ok") is Band.UNKNOWN
    assert verdict.run_status("blocked") is Band.WARNING and verdict.run_status(None) is Band.UNKNOWN


def test_an_open_p1_p2_or_high_urgency_incident_is_critical():
    assert verdict.incident("resolved", "P1", "high") is Band.HEALTHY
    assert verdict.incident("triggered", "P2", "low") is Band.CRITICAL
    assert verdict.incident("acknowledged", "P4", "high") is Band.CRITICAL
    assert verdict.incident("triggered", "P3", "low") is Band.WARNING


@pytest.mark.parametrize(
    ("window", "count", "expected"),
    [
        (None, 0, Band.HEALTHY),
        (None, 1, Band.CRITICAL),  # an expired certificate
        (7, 1, Band.CRITICAL),  # any within a week
        (30, 1, Band.HEALTHY),  # one within 30 days is tolerated ...
        (30, 2, Band.WARNING),  # ... two are not
        (90, 5, Band.HEALTHY),
        (90, 6, Band.ATTENTION),
    ],
)
def test_certificate_windows(window, count, expected):
    assert verdict.certificates(window, count) is expected


def test_tier_one_vendors_out_of_review():
    assert [verdict.vendors_out_of_review(n) for n in (0, 1, 2, 7)] == [
        Band.HEALTHY,
        Band.WARNING,
        Band.CRITICAL,
        Band.CRITICAL,
    ]


@pytest.mark.parametrize(
    ("status", "delivered_verdict", "expected"),
    [
        ("success", "Adequate", Band.HEALTHY),
        ("success", None, Band.UNKNOWN),  # delivered, but nothing judged: not fine
        ("partial", "Low", Band.ATTENTION),
        ("partial", "", Band.UNKNOWN),
        ("failed", None, Band.CRITICAL),  # a failure needs no verdict to be one
        ("skipped", None, Band.WARNING),
        (None, None, Band.UNKNOWN),
    ],
)
def test_a_delivered_run_without_a_verdict_counts_as_unknown(status, delivered_verdict, expected):
    assert verdict.run_result(status, delivered_verdict) is expected
