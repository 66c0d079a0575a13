"""SLO math over good/total event counts: attainment, error budget, burn rate, and the SRE
workbook's multiwindow, multi-burn-rate alert conditions (The Site Reliability Workbook, ch. 5
"Alerting on SLOs", "Recommended parameters for an SLO based alerting"):

    severity  speed  long window  short window  budget consumed  factor (30 d)  factor (28 d)
    page      quick  1h           5m            2%               14.4           13.44
    page      slow   6h           30m           5%               6              5.6
    ticket    quick  1d           2h            10%              3              2.8
    ticket    slow   3d           6h            10%              1              0.933

A rule's burn-rate factor comes from the SLO period: it is the burn rate that consumes the rule's
share of the budget within its long window, factor = budget share x period / long window (the
workbook's 14.4 is 2% x 720 h / 1 h). A 28-day SLO therefore pages at 13.44x, not at 30-day 14.4x.
Periods whose budget is too small for the workbook's shares use their own windows (`PERIOD_WINDOWS`:
7 d as Sloth's `examples/windows/7d.yaml`, 8 / 12.5 / 20 / 42 %, giving 13.44 / 3.5 / 1.4 / 0.98);
any other period (custom) uses the workbook's shares. An alert fires when the burn rate is strictly
greater than the factor over BOTH its long and its short window. Objectives are ratios (0.999 for
99.9%); results are ratios too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

Window = Literal["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
Severity = Literal["page", "ticket"]
Speed = Literal["quick", "slow"]
Counts = tuple[float, float]
WINDOW_SECONDS: dict[str, int] = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}
DEFAULT_PERIOD_DAYS = 28.0  # the SLO period unless one is given (the cockpit's 28-day window)
DAY_S = 86400


class AlertWindow(BaseModel):
    """One rule of a windows catalog: the budget share it may consume over its long window."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    speed: Speed
    long_window: Window
    short_window: Window
    budget_consumed_pct: float

    def factor(self, period_days: float) -> float:
        """Budget share x SLO period / long window (rounded to 10 decimals: 13.44, not 13.4400…01)."""
        if period_days <= 0:
            raise ValueError("the SLO period must be positive")
        share = self.budget_consumed_pct / 100.0
        return round(share * period_days * DAY_S / WINDOW_SECONDS[self.long_window], 10)


# The workbook's four rules: (severity, speed, long window, short window), pages first.
RULE_SHAPES: tuple[tuple[Severity, Speed, Window, Window], ...] = (
    ("page", "quick", "1h", "5m"),
    ("page", "slow", "6h", "30m"),
    ("ticket", "quick", "1d", "2h"),
    ("ticket", "slow", "3d", "6h"),
)


def _windows(*shares_pct: float) -> tuple[AlertWindow, ...]:
    return tuple(
        AlertWindow(severity=sev, speed=speed, long_window=long, short_window=short, budget_consumed_pct=pct)
        for (sev, speed, long, short), pct in zip(RULE_SHAPES, shares_pct, strict=True)
    )


# The workbook's recommended shares (what Sloth's google-30d.yaml / google-28d.yaml ship).
WORKBOOK_WINDOWS = _windows(2, 5, 10, 10)
# Periods with their own shares: a 7-day budget is a quarter of a 28-day one, so the workbook's
# 2% in 1 h would page at 3.36x — Sloth's 7-day catalog keeps the page at 13.44x.
PERIOD_WINDOWS: dict[float, tuple[AlertWindow, ...]] = {7.0: _windows(8, 12.5, 20, 42)}


def alert_windows(period_days: float = DEFAULT_PERIOD_DAYS) -> tuple[AlertWindow, ...]:
    """The windows catalog of an SLO period: its own if it has one, else the workbook's."""
    return PERIOD_WINDOWS.get(float(period_days), WORKBOOK_WINDOWS)


class BurnRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    long_window: Window
    short_window: Window
    burn_rate: float  # the factor: fires when both windows burn strictly faster
    budget_consumed_pct: float
    period_days: float = DEFAULT_PERIOD_DAYS


class BurnAlert(BaseModel):
    """A firing multiwindow burn-rate alert, with the burn rates that made it fire."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    rule: BurnRule
    long_burn_rate: float
    short_burn_rate: float


def burn_rules(period_days: float = DEFAULT_PERIOD_DAYS) -> tuple[BurnRule, ...]:
    """The four multiwindow rules of an SLO period, pages first, with the period's factors."""
    return tuple(
        BurnRule(
            severity=w.severity,
            long_window=w.long_window,
            short_window=w.short_window,
            burn_rate=w.factor(period_days),
            budget_consumed_pct=w.budget_consumed_pct,
            period_days=float(period_days),
        )
        for w in alert_windows(period_days)
    )


BURN_RULES: tuple[BurnRule, ...] = burn_rules(DEFAULT_PERIOD_DAYS)


def _check(good: float, total: float) -> None:
    if good < 0 or total < 0 or good > total:
        raise ValueError("need 0 <= good <= total")


def _check_objective(objective: float) -> None:
    if not 0 < objective < 1:
        raise ValueError("objective is a ratio strictly between 0 and 1, e.g. 0.999")


def attainment(good: float, total: float) -> float | None:
    """Share of good events (0-1); None when there were no events."""
    _check(good, total)
    return None if total == 0 else good / total


def burn_rate(good: float, total: float, objective: float) -> float | None:
    """Error rate over the allowed error rate (1 - objective): 1.0 spends the budget exactly on time."""
    _check_objective(objective)
    _check(good, total)
    return None if total == 0 else (total - good) / total / (1.0 - objective)


def error_budget_remaining(good: float, total: float, objective: float) -> float | None:
    """Share of the error budget left (1 = untouched, 0 = spent, negative = overspent).

    This is the seed's service `slo_attainment: 1 - (error_budget_consumed / error_budget_total)`.
    """
    rate = burn_rate(good, total, objective)
    return None if rate is None else 1.0 - rate


def multiwindow_alerts(
    windows: Mapping[str, Counts], objective: float, period_days: float = DEFAULT_PERIOD_DAYS
) -> list[BurnAlert]:
    """The firing alerts of the period's four rules, pages first.

    `windows` maps "5m", "30m", "1h", "2h", "6h", "1d", "3d" to (good, total) counts over that
    window. A rule whose windows are absent or empty cannot fire.
    """
    alerts: list[BurnAlert] = []
    for rule in burn_rules(period_days):
        long_rate = _window_burn(windows, rule.long_window, objective)
        short_rate = _window_burn(windows, rule.short_window, objective)
        if long_rate is None or short_rate is None:
            continue
        if long_rate > rule.burn_rate and short_rate > rule.burn_rate:
            alerts.append(
                BurnAlert(
                    severity=rule.severity, rule=rule, long_burn_rate=long_rate, short_burn_rate=short_rate
                )
            )
    return alerts


def _window_burn(windows: Mapping[str, Counts], window: str, objective: float) -> float | None:
    counts = windows.get(window)
    return None if counts is None else burn_rate(counts[0], counts[1], objective)
