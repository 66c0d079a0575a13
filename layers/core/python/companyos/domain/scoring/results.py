"""The health model's results, explainable all the way down: composite → dimensions → inputs →
KPIs, each with its score, band, coverage and the reason of what is Unknown.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from companyos.domain.verdict import Band


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
