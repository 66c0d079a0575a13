"""Health scoring: status bands, dimension scores, the composite, all explainable.

Seed: kpi-health-model.md, "Composite Health Score" and "Health Status Thresholds".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

ThreeWay = Literal["HEALTHY", "ATTENTION", "CRITICAL", "UNKNOWN"]


class Band(StrEnum):
    """The seed's five status bands, plus Unknown for a score that could not be computed."""

    EXCELLENT = "excellent"
    HEALTHY = "healthy"
    ATTENTION = "attention"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_healthy(self) -> bool:
        """Excellent or Healthy; Unknown never counts as healthy."""
        return self in (Band.EXCELLENT, Band.HEALTHY)


# Lower bounds, best first: 90-100 Excellent, 80-89 Healthy, 60-79 Attention, 40-59 Warning, 0-39 Critical.
_BANDS: tuple[tuple[float, Band], ...] = (
    (90.0, Band.EXCELLENT),
    (80.0, Band.HEALTHY),
    (60.0, Band.ATTENTION),
    (40.0, Band.WARNING),
)


def band(score: float | None) -> Band:
    """Status band of a 0-100 score; None (not computable) is Unknown."""
    if score is None:
        return Band.UNKNOWN
    return next((b for floor, b in _BANDS if score >= floor), Band.CRITICAL)


def three_way(score: float | None) -> ThreeWay:
    """The seed's `health_status`: HEALTHY >= 80, ATTENTION >= 60, else CRITICAL (UNKNOWN if None)."""
    if score is None:
        return "UNKNOWN"
    if score >= 80:
        return "HEALTHY"
    return "ATTENTION" if score >= 60 else "CRITICAL"
