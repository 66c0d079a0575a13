"""A dimension from KPI values: the seed's security formula on raw values, or the weighted inputs of
its "Cascading Metrics" (each input the mean of its KPIs' normalised scores).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from companyos.domain.kpis import Dimension, KpiDictionary, load_dictionary
from companyos.domain.scoring.combine import Part, clamp, combine, dimension_result, input_result, min_known
from companyos.domain.scoring.kpi_values import score_kpi, usable_values
from companyos.domain.scoring.results import DimensionResult, KpiScore

# ------------------------------------------------------------------------------ security


# The seed's "Security Scoring Formula", verbatim: raw values, not normalised scores.
#   (100 - min(critical_cve_age_days * 10, 100)) * 0.30 + vuln_sla_compliance_pct * 0.25
#   + abac_coverage_pct * 0.20 + (100 - min(secret_violations * 50, 100)) * 0.15
#   + compliance_control_pct * 0.10
SECURITY_TERMS: tuple[tuple[str, float, Callable[[float], float]], ...] = (
    ("critical_cve_age", 0.30, lambda days: 100 - min(days * 10, 100)),
    ("vuln_sla_compliance", 0.25, lambda pct: pct),
    ("abac_policy_coverage", 0.20, lambda pct: pct),
    ("secret_scan_violations", 0.15, lambda n: 100 - min(n * 50, 100)),
    ("compliance_score", 0.10, lambda pct: pct),
)


def security_score(
    critical_cve_age_days: float | None,
    vuln_sla_compliance_pct: float | None,
    abac_coverage_pct: float | None,
    secret_violations: float | None,
    compliance_control_pct: float | None,
    *,
    dictionary: KpiDictionary | None = None,
) -> DimensionResult:
    """The seed's security formula; each term clamped to [0, 100]; Unknown terms re-weighted."""
    raw = (critical_cve_age_days, vuln_sla_compliance_pct, abac_coverage_pct, secret_violations)
    values = dict(zip((t[0] for t in SECURITY_TERMS), (*raw, compliance_control_pct), strict=True))
    d = dictionary or load_dictionary()
    return _security(*usable_values(values, d), d)


def _security(
    values: Mapping[str, float | None], reasons: Mapping[str, str], d: KpiDictionary
) -> DimensionResult:
    parts = []
    for kpi_id, weight, term in SECURITY_TERMS:
        raw = values.get(kpi_id)
        parts.append(Part(kpi_id, weight, None if raw is None else clamp(term(max(raw, 0.0)))))
    combined = combine(parts, min_known(d), reasons)
    inputs = [
        input_result(
            p,
            combined,
            value=values.get(p.id),
            kpis=[score_kpi(d.get(p.id), values.get(p.id), reasons.get(p.id))],
        )
        for p in parts
    ]
    return dimension_result("security", "security_formula", combined, inputs, d)


# ------------------------------------------------------------------------------ weighted inputs


def dimension_score(
    dimension: str,
    kpi_values: Mapping[str, float | None],
    *,
    unknown_reasons: Mapping[str, str] | None = None,
    dictionary: KpiDictionary | None = None,
) -> DimensionResult:
    """A dimension from KPI values (None = Unknown): the security formula, or the weighted inputs
    of the seed's "Cascading Metrics" (each input the mean of its KPIs' normalised scores)."""
    d = dictionary or load_dictionary()
    if dimension not in d.dimensions:
        raise ValueError(f"unknown dimension: {dimension}")
    dim = cast(Dimension, dimension)
    values, reasons = usable_values(kpi_values, d, reasons=unknown_reasons)
    if d.dimensions[dim].method == "security_formula":
        return _security(values, reasons, d)
    return _weighted(dim, values, reasons, d)


def _weighted(
    dim: Dimension, values: Mapping[str, float | None], reasons: Mapping[str, str], d: KpiDictionary
) -> DimensionResult:
    parts: list[Part] = []
    extras: list[dict[str, Any]] = []
    why: dict[str, str] = {}
    for spec in d.dimensions[dim].inputs:
        kpis = [score_kpi(d.get(k), values.get(k), reasons.get(k)) for k in spec.kpis]
        sub = combine([Part(k.kpi_id, 1.0, k.score) for k in kpis], min_known(d), reasons)
        parts.append(Part(spec.id, spec.weight, sub.score, sub.known_weight))
        extras.append({"kpis": kpis, "missing": sub.missing, "reason": sub.reason})
        if sub.score is None:
            why[spec.id] = _kpi_reasons(kpis)
    combined = combine(parts, min_known(d), why)
    inputs = [input_result(p, combined, **x) for p, x in zip(parts, extras, strict=True)]
    return dimension_result(dim, "weighted_inputs", combined, inputs, d)


def _kpi_reasons(kpis: Sequence[KpiScore]) -> str:
    """Why an input is Unknown, from its KPIs' reasons ("missing" when that is all there is)."""
    told = [f"{k.kpi_id} {k.unknown_reason}" for k in kpis if k.unknown_reason not in (None, "missing")]
    return "; ".join(told) or "missing"
