"""The weighted combine every level of the model uses (re-weighted over the known parts, Unknown
under the minimum coverage) and the results it assembles from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from companyos.domain.kpis import Dimension, KpiDictionary
from companyos.domain.scoring.results import DimensionResult, InputResult, Method
from companyos.domain.verdict import band, capped, partial_note


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
    return Combined(clamp(score), share, effective, missing, note)


def _explain_missing(part_id: str, why: Mapping[str, str]) -> str:
    reason = why.get(part_id, "missing")
    return part_id if reason == "missing" else f"{part_id} ({reason})"


def clamp(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return min(max(x, lo), hi)


def min_known(dictionary: KpiDictionary) -> float:
    return dictionary.normalisation.min_known_weight


def dimension_result(
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


def input_result(part: Part, combined: Combined, **extra: Any) -> InputResult:
    return InputResult(
        id=part.id,
        weight=part.weight,
        effective_weight=combined.effective[part.id],
        score=part.score,
        coverage=part.coverage if part.score is not None else 0.0,
        **extra,
    )
