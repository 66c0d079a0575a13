"""Normalisation of KPI values to 0-100 against target and critical threshold."""

from __future__ import annotations

import math

import pytest
from companyos.model.kpis import load_dictionary
from companyos.model.normalise import critical_floor, normalise
from hypothesis import given
from hypothesis import strategies as st

D = load_dictionary()
KPI_IDS = D.ids()


def test_the_critical_floor_is_the_warning_critical_boundary():
    assert critical_floor() == 40.0


@pytest.mark.parametrize(
    ("kpi_id", "value", "score"),
    [
        # higher is better: MTTR-like ramps, here gross margin target 70, critical 60
        ("gross_margin", 75.0, 100.0),  # better than target
        ("gross_margin", 70.0, 100.0),  # at target
        ("gross_margin", 65.0, 70.0),  # halfway: 40 + 60 * 0.5
        ("gross_margin", 60.0, 40.0),  # at critical: the floor
        ("gross_margin", 55.0, 20.0),  # half a span past critical
        ("gross_margin", 50.0, 0.0),  # a full span past critical
        ("gross_margin", 10.0, 0.0),  # never negative
        # lower is better: MTTR target 30 min, critical 60 min
        ("mttr", 18.0, 100.0),
        ("mttr", 45.0, 70.0),
        ("mttr", 60.0, 40.0),
        ("mttr", 75.0, 20.0),
        # target == critical with an explicit decay span: secrets, 0 target, ">0" critical
        ("secret_scan_violations", 0.0, 100.0),
        ("secret_scan_violations", 1.0, 20.0),
        ("secret_scan_violations", 2.0, 0.0),
        # trend KPI: value is the MoM change in %, growing (>= +1%) is the target, 0% the critical edge
        ("active_tenants_dau", 4.0, 100.0),
        ("active_tenants_dau", 0.5, 70.0),
        ("active_tenants_dau", 0.0, 40.0),
        ("active_tenants_dau", -0.5, 20.0),
        # infra cost per active unit: decreasing is the target, +10% the critical edge
        ("infra_cost_per_active_unit", -3.0, 100.0),
        ("infra_cost_per_active_unit", 5.0, 70.0),
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
