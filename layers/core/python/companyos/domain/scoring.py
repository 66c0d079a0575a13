"""Health scoring: status bands, dimension scores, the composite, all explainable.

Seed: kpi-health-model.md, "Composite Health Score" and "Health Status Thresholds".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, computed_field

from companyos.domain import slo
from companyos.domain.kpis import DIMENSIONS, Dimension, KpiDefinition, KpiDictionary, load_dictionary
from companyos.domain.normalise import normalise
from companyos.domain.verdict import Band, band, capped, partial_note

# Band and band (the one vocabulary) live in model/verdict.py; importing them from here still works.


# ------------------------------------------------------------------------------ result models


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready breakdown (enums as their values)."""
        return self.model_dump(mode="json")


class KpiScore(_Frozen):
    """One KPI's latest value, its normalised score and band; `unknown_reason` when it has none."""

    kpi_id: str
    name: str
    dimension: str
    value: float | None
    display: str
    score: float | None
    band: Band
    target: float
    critical: float
    direction: str
    unknown_reason: str | None = None


class InputResult(_Frozen):
    """One weighted input of a dimension (or a domain/service of the reliability cascade).

    `weight` is the nominal weight; `effective_weight` the weight after re-weighting over the
    known inputs (0 when this input is Unknown). `value` is the raw term of the security formula.
    """

    id: str
    weight: float
    effective_weight: float
    score: float | None
    coverage: float = 1.0
    value: float | None = None
    kpis: list[KpiScore] = Field(default_factory=list)
    children: list[InputResult] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    reason: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def contribution(self) -> float:
        """Points this input adds to its parent's score (effective weight x score)."""
        return 0.0 if self.score is None else self.effective_weight * self.score


Method = Literal["weighted_inputs", "security_formula", "service_cascade"]


class DimensionResult(_Frozen):
    """`known_weight` is the coverage: the share of the dimension's weight that is measured (an
    input measured on half its KPIs counts half). `band` is the score's band after the coverage
    rule (model/verdict.capped); `partial` says so when it was capped or could have been."""

    dimension: str
    name: str
    weight: float
    method: Method
    score: float | None
    band: Band
    known_weight: float
    inputs: list[InputResult]
    missing: list[str]
    reason: str | None = None
    partial: str | None = None


class CompositeResult(_Frozen):
    score: float | None
    band: Band
    known_weight: float
    partial: str | None = None
    weights: dict[str, float]
    dimensions: list[DimensionResult]
    missing: list[str]
    reason: str | None = None


class HealthResult(_Frozen):
    """Composite -> dimensions -> inputs -> KPIs, plus every KPI's own score ("why is this 72?")."""

    model_version: str
    composite: CompositeResult
    kpis: list[KpiScore]
    ignored_kpis: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------ weighted combine


@dataclass(frozen=True)
class Part:
    """A weighted part; `coverage` is the measured share of the part itself (1.0 for a KPI value)."""

    id: str
    weight: float
    score: float | None
    coverage: float = 1.0


@dataclass(frozen=True)
class Combined:
    score: float | None
    known_weight: float
    effective: dict[str, float]
    missing: list[str]
    reason: str | None


def combine(parts: Sequence[Part], min_known_weight: float, why: Mapping[str, str] | None = None) -> Combined:
    """Weighted mean over the known parts, re-weighted to their total weight.

    `known_weight` is the coverage: the weight-share that is measured, each known part counting
    with its own coverage (so a half-measured input counts half). Unknown (score None) when the
    coverage is below `min_known_weight`. `why` gives the reason a part is Unknown, quoted in the
    result's reason.
    """
    total = sum(p.weight for p in parts)
    known = [p for p in parts if p.score is not None]
    missing = [p.id for p in parts if p.score is None]
    listed = ", ".join(_explain_missing(m, why or {}) for m in missing)
    share = sum(p.weight * p.coverage for p in known) / total if total else 0.0
    if not known:
        return Combined(None, 0.0, {p.id: 0.0 for p in parts}, missing, f"nothing known; missing: {listed}")
    if share < min_known_weight - 1e-9:
        reason = f"only {share:.0%} of the weight is known (needs {min_known_weight:.0%}); missing: {listed}"
        return Combined(None, share, {p.id: 0.0 for p in parts}, missing, reason)
    known_total = sum(p.weight for p in known)
    effective = {p.id: (p.weight / known_total if p.score is not None else 0.0) for p in parts}
    score = sum(effective[p.id] * p.score for p in known if p.score is not None)
    note = f"re-weighted over the known {share:.0%} of the weight; missing: {listed}" if missing else None
    return Combined(_clamp(score), share, effective, missing, note)


def _explain_missing(part_id: str, why: Mapping[str, str]) -> str:
    reason = why.get(part_id, "missing")
    return part_id if reason == "missing" else f"{part_id} ({reason})"


def _clamp(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return min(max(x, lo), hi)


def _min_known(dictionary: KpiDictionary) -> float:
    return dictionary.normalisation.min_known_weight


# ------------------------------------------------------------------------------ KPI scores


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


def _dimension(
    dim: Dimension, method: Method, combined: Combined, inputs: list[InputResult], d: KpiDictionary
) -> DimensionResult:
    spec = d.dimensions[dim]
    return DimensionResult(
        dimension=dim,
        name=spec.name,
        weight=spec.weight,
        method=method,
        score=combined.score,
        band=capped(band(combined.score), combined.known_weight),
        known_weight=combined.known_weight,
        inputs=inputs,
        missing=combined.missing,
        reason=combined.reason,
        partial=None if combined.score is None else partial_note(combined.known_weight, _missing(inputs)),
    )


def _missing(inputs: Sequence[InputResult]) -> list[str]:
    """What a partial result misses: its Unknown inputs, and the Unknown KPIs or children of
    the inputs it does have."""
    out: list[str] = []
    for i in inputs:
        if i.score is None:
            out.append(i.id)
        else:
            out += [k.kpi_id for k in i.kpis if k.score is None] + [
                c.id for c in i.children if c.score is None
            ]
    return out


def _input(part: Part, combined: Combined, **extra: Any) -> InputResult:
    return InputResult(
        id=part.id,
        weight=part.weight,
        effective_weight=combined.effective[part.id],
        score=part.score,
        coverage=part.coverage if part.score is not None else 0.0,
        **extra,
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
        parts.append(Part(kpi_id, weight, None if raw is None else _clamp(term(max(raw, 0.0)))))
    combined = combine(parts, _min_known(d), reasons)
    inputs = [
        _input(
            p,
            combined,
            value=values.get(p.id),
            kpis=[score_kpi(d.get(p.id), values.get(p.id), reasons.get(p.id))],
        )
        for p in parts
    ]
    return _dimension("security", "security_formula", combined, inputs, d)


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
        sub = combine([Part(k.kpi_id, 1.0, k.score) for k in kpis], _min_known(d), reasons)
        parts.append(Part(spec.id, spec.weight, sub.score, sub.known_weight))
        extras.append({"kpis": kpis, "missing": sub.missing, "reason": sub.reason})
        if sub.score is None:
            why[spec.id] = _kpi_reasons(kpis)
    combined = combine(parts, _min_known(d), why)
    inputs = [_input(p, combined, **x) for p, x in zip(parts, extras, strict=True)]
    return _dimension(dim, "weighted_inputs", combined, inputs, d)


def _kpi_reasons(kpis: Sequence[KpiScore]) -> str:
    """Why an input is Unknown, from its KPIs' reasons ("missing" when that is all there is)."""
    told = [f"{k.kpi_id} {k.unknown_reason}" for k in kpis if k.unknown_reason not in (None, "missing")]
    return "; ".join(told) or "missing"


# ------------------------------------------------------------------------------ reliability cascade


class ServiceReliability(BaseModel):
    """One service of the seed's cascade. `slo_attainment` is the seed's service-level
    `1 - (error_budget_consumed / error_budget_total)` (a ratio; None = no data)."""

    model_config = ConfigDict(frozen=True)

    service: str
    domain: str
    weight: float = Field(default=1.0, gt=0)
    slo_attainment: float | None

    @classmethod
    def from_budget(
        cls, service: str, domain: str, consumed: float, total: float, weight: float = 1.0
    ) -> ServiceReliability:
        att = None if total <= 0 else 1.0 - consumed / total
        return cls(service=service, domain=domain, weight=weight, slo_attainment=att)

    @classmethod
    def from_counts(
        cls, service: str, domain: str, good: float, total: float, objective: float, weight: float = 1.0
    ) -> ServiceReliability:
        att = slo.error_budget_remaining(good, total, objective)
        return cls(service=service, domain=domain, weight=weight, slo_attainment=att)

    @property
    def score(self) -> float | None:
        """0-100: the share of error budget left; an overspent budget scores 0."""
        return None if self.slo_attainment is None else _clamp(100.0 * self.slo_attainment)


def reliability_cascade(
    services: Sequence[ServiceReliability],
    domains: Sequence[str] | None = None,
    *,
    dictionary: KpiDictionary | None = None,
) -> DimensionResult:
    """Seed cascade: service -> domain (weighted by service weight) -> company (mean of domains).

    `domains` names domains that must count even when none of their services reported.
    """
    d = dictionary or load_dictionary()
    names = list(dict.fromkeys([*(domains or ()), *(s.domain for s in services)]))
    per_domain = [_domain(name, [s for s in services if s.domain == name], d) for name in names]
    parts = [
        Part(name, 1.0 / len(names), c.score, c.known_weight)
        for name, (c, _) in zip(names, per_domain, strict=True)
    ]
    combined = combine(parts, _min_known(d))
    inputs = [
        _input(p, combined, children=children, missing=c.missing, reason=c.reason)
        for p, (c, children) in zip(parts, per_domain, strict=True)
    ]
    return _dimension("reliability", "service_cascade", combined, inputs, d)


def _domain(
    name: str, services: Sequence[ServiceReliability], d: KpiDictionary
) -> tuple[Combined, list[InputResult]]:
    parts = [Part(s.service, s.weight, s.score) for s in services]
    if not parts:
        return Combined(None, 0.0, {}, [], f"domain {name} has no services reporting"), []
    c = combine(parts, _min_known(d))
    children = [
        _input(p, c, value=s.slo_attainment, reason=None if p.score is not None else "no SLO data")
        for p, s in zip(parts, services, strict=True)
    ]
    return c, children


# ------------------------------------------------------------------------------ composite


def composite(
    dimension_results: Sequence[DimensionResult], *, dictionary: KpiDictionary | None = None
) -> CompositeResult:
    """Seed composite: 0.25 reliability, 0.25 security, 0.20 product, 0.15 financials, 0.15
    efficiency; Unknown dimensions re-weighted away while at least half the weight is known."""
    d = dictionary or load_dictionary()
    parts = [Part(r.dimension, r.weight, r.score, r.known_weight) for r in dimension_results]
    c = combine(parts, _min_known(d))
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
