"""KPI values in: which are usable (missing, not finite, stale) and each KPI's normalised score."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from companyos.domain.kpis import KpiDefinition, KpiDictionary
from companyos.domain.normalise import normalise
from companyos.domain.scoring.results import KpiScore
from companyos.domain.verdict import band


def score_kpi(defn: KpiDefinition, value: float | None, unknown_reason: str | None = None) -> KpiScore:
    """A KPI's normalised score; a None value is Unknown ("missing" unless a reason is given)."""
    score = normalise(defn, value)
    reason = None if score is not None else (unknown_reason or "missing")
    return KpiScore(
        kpi_id=defn.id,
        name=defn.name,
        dimension=defn.dimension,
        value=value,
        display=defn.format_value(value),
        score=score,
        band=band(score),
        target=defn.target,
        critical=defn.critical,
        direction=defn.direction.value,
        unknown_reason=reason,
    )


# ------------------------------------------------------------------------------ unknown inputs


def unknown_reason(
    value: float | None, observed_at: datetime | None, as_of: datetime | None, stale_after_s: float
) -> str | None:
    """Why a KPI value cannot be used (missing, not finite, stale), or None when it can."""
    if value is None:
        return "missing"
    if not math.isfinite(value):
        return "not a finite number"
    if observed_at is not None and as_of is not None:
        age = (as_of - observed_at).total_seconds()
        if age > stale_after_s:
            return f"stale: observed {age / 3600:.1f} h ago, stale after {stale_after_s / 3600:.1f} h"
    return None


def usable_values(
    kpi_values: Mapping[str, float | None],
    d: KpiDictionary,
    *,
    observed_at: Mapping[str, datetime] | None = None,
    as_of: datetime | None = None,
    reasons: Mapping[str, str] | None = None,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every dictionary KPI's usable value (None when Unknown) and the reason of each Unknown."""
    values: dict[str, float | None] = {}
    why: dict[str, str] = {}
    for kpi_id in d.ids():
        v = kpi_values.get(kpi_id)
        at = (observed_at or {}).get(kpi_id)
        reason = (reasons or {}).get(kpi_id) or unknown_reason(v, at, as_of, d.stale_after_s(kpi_id))
        values[kpi_id] = None if reason else v
        if reason:
            why[kpi_id] = reason
    return values, why
