"""SLO math and the SRE workbook's multiwindow, multi-burn-rate alerts."""

from __future__ import annotations

import pytest
from companyos.domain.slo import (
    BURN_RULES,
    attainment,
    burn_rate,
    burn_rules,
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


def test_the_workbook_rules_are_the_recommended_parameters_at_30_days():
    table = [
        (r.severity, r.long_window, r.short_window, r.burn_rate, r.budget_consumed_pct)
        for r in burn_rules(30)
    ]
    # SRE workbook table: 2% in 1h -> 0.02 * 720 h / 1 h = 14.4; 5% in 6h -> 0.05 * 720 / 6 = 6;
    # 10% in 1d -> 0.1 * 720 / 24 = 3; 10% in 3d -> 0.1 * 720 / 72 = 1
    assert table == [
        ("page", "1h", "5m", 14.4, 2),
        ("page", "6h", "30m", 6, 5),
        ("ticket", "1d", "2h", 3, 10),
        ("ticket", "3d", "6h", 1, 10),
    ]


def test_a_28_day_slo_scales_the_factors_with_its_period():
    # 0.02 * 672 h / 1 h = 13.44; 0.05 * 672 / 6 = 5.6; 0.1 * 672 / 24 = 2.8; 0.1 * 672 / 72 = 0.9333
    assert [r.burn_rate for r in burn_rules(28)] == pytest.approx([13.44, 5.6, 2.8, 672 / 720])
    assert burn_rules(28) == BURN_RULES  # the default SLO period is 28 days


def test_a_28_day_slo_pages_at_14x_over_1h_and_5m_where_30_days_would_not():
    windows = _windows(_5m=14.0, _1h=14.0, _30m=1, _6h=1, _2h=1, _1d=0.5, _3d=0.5)
    assert [(a.severity, a.rule.long_window) for a in multiwindow_alerts(windows, OBJ, 28)] == [
        ("page", "1h")
    ]
    assert multiwindow_alerts(windows, OBJ, 30) == []


def test_a_3_5x_burn_over_1d_and_2h_opens_the_quick_ticket():
    # 3.5 > 2.8 (28 d) on both windows; the 6h/30m page (5.6) and the 3d/6h ticket see a calm period
    windows = _windows(_5m=3.5, _1h=3.5, _30m=0.5, _6h=0.5, _2h=3.5, _1d=3.5, _3d=0.5)
    assert [(a.severity, a.rule.long_window) for a in multiwindow_alerts(windows, OBJ)] == [("ticket", "1d")]


def test_a_7_day_slo_tickets_with_its_own_factors():
    # 7 d windows (Sloth's 7d catalog): 20% in 1d -> 0.2 * 168 / 24 = 1.4; 42% in 3d -> 0.42 * 168 / 72 = 0.98
    assert [r.burn_rate for r in burn_rules(7)] == pytest.approx([13.44, 3.5, 1.4, 0.98])
    quick = _windows(_5m=0.5, _1h=0.5, _30m=0.5, _6h=0.5, _2h=2.0, _1d=2.0, _3d=0.5)
    assert [a.rule.long_window for a in multiwindow_alerts(quick, OBJ, 7)] == ["1d"]  # 2.0 > 1.4
    assert multiwindow_alerts(quick, OBJ, 28) == []  # 2.0 < 2.8
    slow = _windows(_5m=0.95, _1h=0.95, _30m=0.95, _6h=0.95, _2h=0.95, _1d=0.95, _3d=0.95)
    assert [a.rule.long_window for a in multiwindow_alerts(slow, OBJ, 28)] == ["3d"]  # 0.95 > 0.933
    assert multiwindow_alerts(slow, OBJ, 7) == []  # 0.95 < 0.98


def test_a_custom_period_uses_the_workbook_shares():
    # 14 d: 0.02 * 336 / 1 = 6.72; 0.05 * 336 / 6 = 2.8; 0.1 * 336 / 24 = 1.4; 0.1 * 336 / 72 = 0.4667
    assert [r.burn_rate for r in burn_rules(14)] == pytest.approx([6.72, 2.8, 1.4, 336 / 720])
    with pytest.raises(ValueError, match="period"):
        burn_rules(0)


def test_a_fast_burn_over_1h_and_5m_pages():
    alerts = multiwindow_alerts(_windows(_5m=20, _1h=15, _30m=2, _6h=2, _2h=2, _1d=2, _3d=0.5), OBJ)
    assert [(a.severity, a.rule.long_window) for a in alerts] == [("page", "1h")]
    assert alerts[0].long_burn_rate == pytest.approx(15)


def test_a_fast_burn_that_already_stopped_does_not_page():
    # Given 1h still shows 15x, but the last 5m are clean (the short window resets the alert)
    assert multiwindow_alerts(_windows(_5m=0.5, _1h=15, _30m=0.5, _6h=2, _2h=0.5, _1d=2, _3d=0.5), OBJ) == []


def test_a_6x_burn_over_6h_and_30m_pages():
    alerts = multiwindow_alerts(_windows(_5m=7, _1h=7, _30m=7, _6h=6.5, _2h=2, _1d=2, _3d=0.9), OBJ)
    assert [(a.severity, a.rule.long_window) for a in alerts] == [("page", "6h")]


def test_a_slow_burn_over_3d_and_6h_opens_a_ticket():
    alerts = multiwindow_alerts(_windows(_5m=1.5, _1h=1.5, _30m=1.5, _6h=1.2, _2h=1.5, _1d=1.5, _3d=1.1), OBJ)
    assert [(a.severity, a.rule.long_window) for a in alerts] == [("ticket", "3d")]


def test_thresholds_are_strict_and_all_matching_rules_fire_pages_first():
    at_threshold = _windows(_5m=13.44, _1h=13.44, _30m=0.5, _6h=0.5, _2h=0.5, _1d=0.5, _3d=0.5)
    assert multiwindow_alerts(at_threshold, OBJ) == []  # 13.44 is not greater than 13.44
    everything = _windows(_5m=20, _1h=20, _30m=20, _6h=20, _2h=20, _1d=20, _3d=20)
    assert [a.severity for a in multiwindow_alerts(everything, OBJ)] == ["page", "page", "ticket", "ticket"]


def test_missing_or_empty_windows_cannot_fire():
    windows = _windows(_5m=20, _1h=20)
    windows["6h"] = (0, 0)
    alerts = multiwindow_alerts(windows, OBJ)
    assert [a.rule.long_window for a in alerts] == ["1h"]
    assert alerts[0].model_dump()["rule"]["burn_rate"] == 13.44
