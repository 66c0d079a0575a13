"""Normalisation of a KPI value to a 0-100 score against its target and critical threshold.

    target or better            -> 100
    between critical and target -> linear from the critical floor (40) to 100
    at critical                 -> the critical floor (40): the Warning/Critical boundary
    worse than critical         -> linear from 40 down to 0 over the KPI's decay span
                                   (default |target - critical|), then 0
    missing or not finite       -> None (Unknown): never 0, never 100

The score is monotone in the value: a better value never scores lower. See docs/health-model.md.
"""

from __future__ import annotations

import math

from companyos.model.kpis import Direction, KpiDefinition, load_dictionary


def critical_floor() -> float:
    """The score at exactly the critical threshold (the pack's `normalisation.critical_floor`)."""
    return load_dictionary().normalisation.critical_floor


def normalise(defn: KpiDefinition, value: float | None, *, floor: float | None = None) -> float | None:
    """Score of `value` for `defn` in [0, 100], or None when the value is unknown."""
    if value is None or not math.isfinite(value):
        return None
    floor = critical_floor() if floor is None else floor
    if not defn.is_better(defn.target, value):
        return 100.0
    # Signed distance from the critical threshold, positive towards the target.
    ahead = value - defn.critical if defn.direction is Direction.HIGHER else defn.critical - value
    if ahead >= 0:
        return floor + (100.0 - floor) * ahead / abs(defn.target - defn.critical)
    return max(0.0, floor * (1.0 + ahead / defn.span))
