"""SLO math over good/total event counts: attainment, error budget, burn rate, and the SRE
workbook's multiwindow, multi-burn-rate alert conditions (The Site Reliability Workbook, ch. 5
"Alerting on SLOs", table 5-8 / "Recommended parameters"):

    severity  long window  short window  burn rate  budget consumed
    page      1h           5m            14.4       2%
    page      6h           30m           6          5%
    ticket    3d           6h            1          10%

An alert fires when the burn rate exceeds the threshold over BOTH its long and its short window.
Objectives are ratios (0.999 for 99.9%); results are ratios too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

Window = Literal["5m", "30m", "1h", "6h", "3d"]
Counts = tuple[float, float]


class BurnRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Literal["page", "ticket"]
    long_window: Window
    short_window: Window
    burn_rate: float
    budget_consumed_pct: float


class BurnAlert(BaseModel):
    """A firing multiwindow burn-rate alert, with the burn rates that made it fire."""

    model_config = ConfigDict(frozen=True)

    severity: Literal["page", "ticket"]
    rule: BurnRule
    long_burn_rate: float
    short_burn_rate: float


BURN_RULES: tuple[BurnRule, ...] = (
    BurnRule(severity="page", long_window="1h", short_window="5m", burn_rate=14.4, budget_consumed_pct=2),
    BurnRule(severity="page", long_window="6h", short_window="30m", burn_rate=6, budget_consumed_pct=5),
    BurnRule(severity="ticket", long_window="3d", short_window="6h", burn_rate=1, budget_consumed_pct=10),
)


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


def multiwindow_alerts(windows: Mapping[str, Counts], objective: float) -> list[BurnAlert]:
    """The firing alerts of the workbook's three rules, pages first.

    `windows` maps "5m", "30m", "1h", "6h", "3d" to (good, total) counts over that window. A rule
    whose windows are absent or empty cannot fire.
    """
    alerts: list[BurnAlert] = []
    for rule in BURN_RULES:
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
