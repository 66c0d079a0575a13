"""Burn-rate factors against Sloth's own test data (../shared/fixtures/peer/sloth, slok/sloth at
0e395d8): its window catalogs (`internal/alert/windows/google-30d.yaml`, `google-28d.yaml`,
`examples/windows/7d.yaml`) and the factors its `internal/alert/alert_test.go` expects per SLO period.

Sloth computes a rule's factor as error-budget percent / 100 x SLO period / long window; ours must
give the same factor for the same period and windows, and our shipped catalog must be Sloth's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml
from companyos.domain import slo

from tests.conftest import peer_fixture

SLOTH = "sloth"
RULES = {"PageQuick": ("page", "quick"), "PageSlow": ("page", "slow"),
         "TicketQuick": ("ticket", "quick"), "TicketSlow": ("ticket", "slow")}  # fmt: skip
GO_UNITS = {"time.Minute": timedelta(minutes=1), "time.Hour": timedelta(hours=1)}


def _go_duration(expr: str) -> timedelta:
    """`1 * 24 * time.Hour` → 1 day."""
    *factors, unit = (p.strip() for p in expr.split("*"))
    n = 1
    for f in factors:
        n *= int(f)
    return n * GO_UNITS[unit]


def _sloth_expected() -> dict[int, dict[tuple[str, str], tuple[timedelta, timedelta, float]]]:
    """Per SLO period (days): (severity, speed) → (long window, short window, factor) from alert_test.go."""
    text = peer_fixture(f"{SLOTH}/internal/alert/alert_test.go").read_text()
    out: dict[int, dict[tuple[str, str], tuple[timedelta, timedelta, float]]] = {}
    for case in re.split(r"\n\t\t\"", text)[1:]:
        period = re.search(r"TimeWindow:\s*([^,]+),", case)
        if period is None or "expAlerts" not in case:
            continue
        days = _go_duration(period.group(1)).days
        rules = {}
        for name, body in re.findall(
            r"(PageQuick|PageSlow|TicketQuick|TicketSlow): model\.MWMBAlert\{(.*?)\}", case, re.S
        ):
            field = dict(re.findall(r"(\w+):\s*([^,\n]+),", body))
            rules[RULES[name]] = (
                _go_duration(field["LongWindow"]),
                _go_duration(field["ShortWindow"]),
                float(field["BurnRateFactor"]),
            )
        out[days] = rules
    return out


def _sloth_catalog(relative: str) -> tuple[float, list[slo.AlertWindow]]:
    spec = yaml.safe_load(peer_fixture(f"{SLOTH}/{relative}").read_text())["spec"]
    windows = [
        slo.AlertWindow(
            severity=sev,
            speed=speed,
            long_window=spec[sev][speed]["longWindow"],
            short_window=spec[sev][speed]["shortWindow"],
            budget_consumed_pct=spec[sev][speed]["errorBudgetPercent"],
        )
        for sev, speed in RULES.values()
    ]
    return float(spec["sloPeriod"].removesuffix("d")), windows


def _td(window: str) -> timedelta:
    return timedelta(seconds=slo.WINDOW_SECONDS[window])


def test_sloth_tests_cover_30_28_and_7_days():
    assert sorted(_sloth_expected()) == [7, 28, 30]


@pytest.mark.parametrize(
    "catalog",
    [
        "internal/alert/windows/google-30d.yaml",
        "internal/alert/windows/google-28d.yaml",
        "examples/windows/7d.yaml",
    ],
)
def test_our_factor_of_sloths_windows_is_sloths_factor(catalog):
    period, windows = _sloth_catalog(catalog)
    expected = _sloth_expected()[int(period)]
    for w in windows:
        long_w, short_w, factor = expected[(w.severity, w.speed)]
        assert (_td(w.long_window), _td(w.short_window)) == (long_w, short_w)
        assert w.factor(period) == pytest.approx(factor, rel=1e-9)


@pytest.mark.parametrize("period", [30, 28, 7])
def test_our_shipped_rules_of_a_period_are_sloths(period):
    expected = _sloth_expected()[period]
    got = {
        (r.severity, w.speed): r
        for r, w in zip(slo.burn_rules(period), slo.alert_windows(period), strict=True)
    }
    assert set(got) == set(expected)
    for key, (long_w, short_w, factor) in expected.items():
        rule = got[key]
        assert (_td(rule.long_window), _td(rule.short_window)) == (long_w, short_w)
        assert rule.burn_rate == pytest.approx(factor, rel=1e-9)
