"""Normalisation of KPI values to 0-100 against target and critical threshold."""

from __future__ import annotations

import math

import pytest
from companyos.domain.kpis import load_dictionary
from companyos.domain.normalise import critical_floor, normalise
from hypothesis import given
from hypothesis import strategies as st

D = load_dictionary()
KPI_IDS = D.ids()


def test_the_critical_floor_is_the_warning_critical_boundary():
    assert critical_floor() == 40.0


@pytest.mark.parametrize(
    ("kpi_id", "value", "score"),
    [
        # higher is better: gross margin target 70, critical 60 → default stretch 75, ideal 80
        ("gross_margin", 85.0, 100.0),  # beyond ideal
        ("gross_margin", 80.0, 100.0),  # at ideal
        ("gross_margin", 77.5, 95.0),  # halfway stretch → ideal: 90 + 10 * 0.5
        ("gross_margin", 75.0, 90.0),  # at stretch: the Excellent floor
        ("gross_margin", 72.5, 85.0),  # halfway target → stretch: 80 + 10 * 0.5
        ("gross_margin", 70.0, 80.0),  # at target: the Healthy floor
        ("gross_margin", 65.0, 60.0),  # halfway critical → target: 40 + 40 * 0.5 (Attention)
        ("gross_margin", 60.0, 40.0),  # at critical: the floor
        ("gross_margin", 55.0, 20.0),  # half a span past critical
        ("gross_margin", 50.0, 0.0),  # a full span past critical
        ("gross_margin", 10.0, 0.0),  # never negative
        # lower is better: MTTR target 30 min, critical 60 min → stretch 15, ideal 0
        ("mttr", 0.0, 100.0),
        ("mttr", 15.0, 90.0),
        ("mttr", 18.0, 88.0),  # 80 + 10 * (30 - 18) / 15
        ("mttr", 45.0, 60.0),
        ("mttr", 60.0, 40.0),
        ("mttr", 75.0, 20.0),
        # target == critical with an explicit decay span: secrets, 0 target, ">0" critical; the
        # target is also the best possible value (stretch = ideal = 0): meeting it scores 100
        ("secret_scan_violations", 0.0, 100.0),
        ("secret_scan_violations", 1.0, 20.0),
        ("secret_scan_violations", 2.0, 0.0),
        # a pack-set ideal: SLO attainment 99.5 critical, 99.9 target, 99.95 stretch, 100 ideal
        ("slo_attainment", 99.81, 71.0),  # 40 + 40 * 0.31 / 0.4: below target, never Healthy
        ("slo_attainment", 99.975, 95.0),
        # burn rate: 1x is the target, 6x critical, 0.5x stretch, 0x ideal
        ("error_budget_burn_rate", 1.38, 76.96),  # 40 + 40 * (6 - 1.38) / 5: above 1x is not Healthy
        ("error_budget_burn_rate", 0.25, 95.0),
        # trend KPI: value is the MoM change in %, growing (>= +1%) is the target, 0% the critical edge
        ("active_tenants_dau", 4.0, 100.0),
        ("active_tenants_dau", 1.75, 95.0),
        ("active_tenants_dau", 1.0, 80.0),
        ("active_tenants_dau", 0.5, 60.0),
        ("active_tenants_dau", 0.0, 40.0),
        ("active_tenants_dau", -0.5, 20.0),
        # infra cost per active unit: decreasing is the target, +10% the critical edge
        ("infra_cost_per_active_unit", -10.0, 100.0),
        ("infra_cost_per_active_unit", -3.0, 86.0),
        ("infra_cost_per_active_unit", 5.0, 60.0),
        ("infra_cost_per_active_unit", 10.0, 40.0),
    ],
)
def test_scores_follow_the_documented_piecewise_line(kpi_id, value, score):
    assert normalise(D.get(kpi_id), value) == pytest.approx(score)


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf])
def test_missing_or_not_finite_values_are_unknown_not_0_nor_100(value):
    assert normalise(D.get("gross_margin"), value) is None


def test_worse_than_critical_is_always_below_the_floor():
    for k in D.all():
        worse = k.critical - 1e-6 if k.direction == "higher" else k.critical + 1e-6
        assert normalise(k, worse) < 40.0, k.id


def test_a_custom_floor_moves_the_critical_score():
    assert normalise(D.get("gross_margin"), 60.0, floor=50.0) == 50.0


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(kpi_id=st.sampled_from(KPI_IDS), a=finite, b=finite)
def test_normalisation_is_monotone_in_the_value(kpi_id, a, b):
    # Given any KPI and two values, the better value never scores lower
    k = D.get(kpi_id)
    better, worse = (a, b) if not k.is_better(b, a) else (b, a)
    assert normalise(k, better) >= normalise(k, worse)


@given(kpi_id=st.sampled_from(KPI_IDS), v=finite)
def test_scores_stay_within_0_and_100(kpi_id, v):
    assert 0.0 <= normalise(D.get(kpi_id), v) <= 100.0


def test_a_kpi_that_misses_its_target_is_never_healthy():
    # For every KPI, a value a hair worse than its target scores below the Healthy floor (80),
    # and the target itself scores at least 80
    for k in D.all():
        worse = k.target - 1e-6 if k.direction == "higher" else k.target + 1e-6
        assert normalise(k, worse) < 80.0, k.id
        assert normalise(k, k.target) >= 80.0, k.id


def test_every_kpi_can_reach_excellent_within_its_natural_bounds():
    # Stretch (the Excellent floor) must be a value a company can have: a percentage share at
    # most 100, a count, duration or rate at least 0
    shares = {"percent"}
    for k in D.all():
        assert normalise(k, k.stretch_value) == pytest.approx(90.0) or k.stretch_value == k.ideal_value
        if k.unit in shares and k.id != "net_revenue_retention":
            assert k.ideal_value <= 100.0, k.id
        if not k.trend and k.direction == "lower":
            assert k.ideal_value >= 0.0, k.id
