"""Health scoring: status bands, dimension scores, the composite, all explainable.

Seed: kpi-health-model.md, "Composite Health Score" and "Health Status Thresholds".

The package: scoring/results.py (the result models), combine.py (the weighted combine),
kpi_values.py (usable values, KPI scores), dimensions.py (security formula, weighted inputs),
reliability.py (the service cascade); the composite and `health` (everything from KPI values) here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from companyos.domain.kpis import DIMENSIONS, KpiDictionary, load_dictionary
from companyos.domain.scoring.combine import Combined, Part, combine, min_known
from companyos.domain.scoring.dimensions import SECURITY_TERMS, dimension_score, security_score
from companyos.domain.scoring.kpi_values import score_kpi, unknown_reason, usable_values
from companyos.domain.scoring.reliability import ServiceReliability, reliability_cascade
from companyos.domain.scoring.results import (
    CompositeResult,
    DimensionResult,
    HealthResult,
    InputResult,
    KpiScore,
    Method,
)

# Band and band (the one vocabulary) live in model/verdict.py; importing them from here still works.
from companyos.domain.verdict import Band, band, capped, partial_note

__all__ = [
    "SECURITY_TERMS",
    "Band",
    "Combined",
    "CompositeResult",
    "DimensionResult",
    "HealthResult",
    "InputResult",
    "KpiScore",
    "Method",
    "Part",
    "ServiceReliability",
    "band",
    "combine",
    "composite",
    "dimension_score",
    "health",
    "reliability_cascade",
    "score_kpi",
    "security_score",
    "unknown_reason",
    "usable_values",
]


def composite(
    dimension_results: Sequence[DimensionResult], *, dictionary: KpiDictionary | None = None
) -> CompositeResult:
    """Seed composite: 0.25 reliability, 0.25 security, 0.20 product, 0.15 financials, 0.15
    efficiency; Unknown dimensions re-weighted away while at least half the weight is known."""
    d = dictionary or load_dictionary()
    parts = [Part(r.dimension, r.weight, r.score, r.known_weight) for r in dimension_results]
    c = combine(parts, min_known(d))
    missing = [r.dimension for r in dimension_results if r.score is None] + [
        f"{r.dimension} ({100 * r.known_weight:.0f} % measured)"
        for r in dimension_results
        if r.score is not None and r.partial
    ]
    return CompositeResult(
        score=c.score,
        band=capped(band(c.score), c.known_weight),
        known_weight=c.known_weight,
        partial=None if c.score is None else partial_note(c.known_weight, missing),
        weights={r.dimension: r.weight for r in dimension_results},
        dimensions=list(dimension_results),
        missing=c.missing,
        reason=c.reason,
    )


def health(
    kpi_values: Mapping[str, float | None],
    services: Sequence[ServiceReliability] | None = None,
    *,
    domains: Sequence[str] | None = None,
    observed_at: Mapping[str, datetime] | None = None,
    as_of: datetime | None = None,
    dictionary: KpiDictionary | None = None,
) -> HealthResult:
    """Everything from KPI id -> latest value (None = Unknown).

    With `services`, reliability is the service cascade; otherwise its KPI inputs. With
    `observed_at` and `as_of`, values older than their refresh class allows are Unknown (stale).
    """
    d = dictionary or load_dictionary()
    values, reasons = usable_values(kpi_values, d, observed_at=observed_at, as_of=as_of)
    dims = [
        reliability_cascade(services, domains, dictionary=d)
        if services is not None and dim == "reliability"
        else dimension_score(dim, values, unknown_reasons=reasons, dictionary=d)
        for dim in DIMENSIONS
    ]
    return HealthResult(
        model_version=d.version,
        composite=composite(dims, dictionary=d),
        kpis=[score_kpi(k, values[k.id], reasons.get(k.id)) for k in d.all()],
        ignored_kpis=sorted(set(kpi_values) - set(d.ids())),
    )
