"""SLO math and the SRE workbook's multiwindow, multi-burn-rate alerts."""

from __future__ import annotations

import pytest
from companyos.model.slo import (
    BURN_RULES,
    attainment,
    burn_rate,
    error_budget_remaining,
    multiwindow_alerts,
)

OBJ = 0.999  # 99.9%: 0.1% error budget


def test_attainment_is_good_over_total():
    assert attainment(999_500, 1_000_000) == pytest.approx(0.9995)
    assert attainment(0, 0) is None


@pytest.mark.parametrize(("good", "total"), [(5, 4), (-1, 3), (1, -1)])
def test_impossible_counts_are_rejected(good, total):
    with pytest.raises(ValueError):
        attainment(good, total)


def test_burn_rate_is_error_rate_over_the_allowed_error_rate():
    # 0.2% errors against a 0.1% budget burns twice as fast as sustainable
    assert burn_rate(998, 1000, OBJ) == pytest.approx(2.0)
    assert burn_rate(1000, 1000, OBJ) == 0.0
    assert burn_rate(0, 0, OBJ) is None


@pytest.mark.parametrize("objective", [0.0, 1.0, 99.9])
def test_objective_must_be_a_ratio(objective):
    with pytest.raises(ValueError, match="objective"):
        burn_rate(1, 1, objective)


def test_error_budget_remaining_is_the_seeds_service_slo_attainment():
    # 0.05% errors spend half of a 0.1% budget
    assert error_budget_remaining(9995, 10_000, OBJ) == pytest.approx(0.5)
    # overspent budgets go negative
    assert error_budget_remaining(9970, 10_000, OBJ) == pytest.approx(-2.0)
    assert error_budget_remaining(0, 0, OBJ) is None


def _windows(**burns: float) -> dict[str, tuple[float, float]]:
    """(good, total) counts per window giving the requested burn rate against OBJ."""
    total = 1_000_000
    return {w.replace("_", ""): (total - b * (1 - OBJ) * total, total) for w, b in burns.items()}


def test_the_workbook_rules_are_the_recommended_parameters():
    table = [
        (r.severity, r.long_window, r.short_window, r.burn_rate, r.budget_consumed_pct) for r in BURN_RULES
    ]
    assert table == [
        ("page", "1h", "5m", 14.4, 2),
        ("page", "6h", "30m", 6, 5),
        ("ticket", "3d", "6h", 1, 10),
    ]


def test_a_fast_burn_over_1h_and_5m_pages():
    alerts = multiwindow_alerts(_windows(_5m=20, _1h=15, _30m=2, _6h=2, _3d=0.5), OBJ)
    assert [(a.severity, a.rule.long_window) for a in alerts] == [("page", "1h")]
    assert alerts[0].long_burn_rate == pytest.approx(15)


def test_a_fast_burn_that_already_stopped_does_not_page():
    # Given 1h still shows 15x, but the last 5m are clean (the short window resets the alert)
    assert multiwindow_alerts(_windows(_5m=0.5, _1h=15, _30m=0.5, _6h=2, _3d=0.5), OBJ) == []


def test_a_6x_burn_over_6h_and_30m_pages():
    alerts = multiwindow_alerts(_windows(_5m=7, _1h=7, _30m=7, _6h=6.5, _3d=0.9), OBJ)
    assert [(a.severity, a.rule.long_window) for a in alerts] == [("page", "6h")]


def test_a_slow_burn_over_3d_and_6h_opens_a_ticket():
    alerts = multiwindow_alerts(_windows(_5m=1.5, _1h=1.5, _30m=1.5, _6h=1.2, _3d=1.1), OBJ)
    assert [(a.severity, a.rule.long_window) for a in alerts] == [("ticket", "3d")]


def test_thresholds_are_strict_and_all_matching_rules_fire_pages_first():
    at_threshold = _windows(_5m=14.4 * 0.999, _1h=14.4 * 0.999, _30m=1, _6h=1, _3d=1)
    assert multiwindow_alerts(at_threshold, OBJ) == []
    everything = _windows(_5m=20, _1h=20, _30m=20, _6h=20, _3d=20)
    assert [a.severity for a in multiwindow_alerts(everything, OBJ)] == ["page", "page", "ticket"]


def test_missing_or_empty_windows_cannot_fire():
    windows = _windows(_5m=20, _1h=20)
    windows["6h"] = (0, 0)
    alerts = multiwindow_alerts(windows, OBJ)
    assert [a.rule.long_window for a in alerts] == ["1h"]
    assert alerts[0].model_dump()["rule"]["burn_rate"] == 14.4
