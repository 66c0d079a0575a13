"""Normalisation of a KPI value to a 0-100 score against its thresholds.

A piecewise-linear line through four anchors (scores from the pack's `normalisation` block):

    ideal or better                 -> 100
    stretch  .. ideal               -> 90 (the Excellent floor) .. 100
    target   .. stretch             -> 80 (the Healthy floor) .. 90
    critical .. target              -> 40 (the critical floor: Warning/Critical boundary) .. 80
    worse than critical             -> 40 down to 0 over the KPI's decay span
                                       (default |target - critical|), then 0
    missing or not finite           -> None (Unknown): never 0, never 100

So a KPI that misses its target scores below 80 and is never Healthy; meeting the target is
Healthy; Excellent needs the stretch value. An anchor that coincides with the next one (a KPI
whose target is already the best possible value, e.g. 0 open secrets) gives the higher score.
The score is monotone in the value: a better value never scores lower. See docs/health-model.md.
"""

from __future__ import annotations

import math

from companyos.domain.kpis import Direction, KpiDefinition, load_dictionary


def critical_floor() -> float:
    """The score at exactly the critical threshold (the pack's `normalisation.critical_floor`)."""
    return load_dictionary().normalisation.critical_floor


def normalise(defn: KpiDefinition, value: float | None, *, floor: float | None = None) -> float | None:
    """Score of `value` for `defn` in [0, 100], or None when the value is unknown."""
    if value is None or not math.isfinite(value):
        return None
    n = load_dictionary().normalisation
    floor = n.critical_floor if floor is None else floor
    anchors = (
        (defn.ideal_value, 100.0),
        (defn.stretch_value, n.stretch_score),
        (defn.target, n.target_score),
        (defn.critical, floor),
    )
    upper_value, upper_score = anchors[0]
    if not defn.is_better(upper_value, value):
        return 100.0
    for at, score in anchors[1:]:
        if not defn.is_better(at, value):  # value between this anchor and the one above it
            return score + (upper_score - score) * _ahead(defn, value, at) / abs(upper_value - at)
        upper_value, upper_score = at, score
    return max(0.0, floor * (1.0 + _ahead(defn, value, defn.critical) / defn.span))


def _ahead(defn: KpiDefinition, value: float, anchor: float) -> float:
    """Signed distance of `value` from `anchor`, positive towards the better side."""
    return value - anchor if defn.direction is Direction.HIGHER else anchor - value
