"""The KPI dictionary: the 28 primary KPIs of the health model, loaded from a versioned YAML pack.

The pack (`packs/health-model-v1.yaml`) is data: targets, critical thresholds, units, sources,
refresh and retention classes, and which KPIs feed which dimension input. It is validated by
pydantic when loaded; `load_dictionary()` caches the parsed pack per process.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from companyos.domain import packs

DIMENSIONS: tuple[str, ...] = ("reliability", "security", "product", "financials", "efficiency")
Dimension = Literal["reliability", "security", "product", "financials", "efficiency"]
DEFAULT_PACK = "health-model-v1.yaml"


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class UnknownKpiError(KeyError):
    """A KPI id that is not in the dictionary."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_FORMATS: dict[str, str] = {
    "percent_change": "{:+.1f}% MoM",
    "ratio_x": "{:.1f}x",
    "minutes": "{:.0f} min",
    "hours": "{:.1f} h",
    "days": "{:.0f} d",
    "months": "{:.1f} mo",
    "count": "{:.0f}",
    "per_hour": "{:.1f}/h",  # failed sign-ins run at ~0.1/h: "0/h" read as none
    "per_month": "{:.0f}/mo",
    "per_day": "{:.1f}/day",
    "nps": "{:+.0f}",
}
Unit = Literal[
    "percent",
    "percent_change",
    "ratio_x",
    "minutes",
    "hours",
    "days",
    "months",
    "count",
    "per_hour",
    "per_month",
    "per_day",
    "nps",
]


class KpiDefinition(_Frozen):
    """One primary KPI. For a `trend` KPI the scored value is the period-over-period change (%)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    definition: str
    dimension: Dimension
    unit: Unit
    direction: Direction
    target: float
    critical: float
    source: str
    refresh: str
    retention_class: str
    trend: bool = False
    base_unit: str | None = None
    decay_span: float | None = Field(default=None, gt=0)
    # Better than target: `stretch` scores the Excellent floor (90), `ideal` 100 (docs/health-model.md).
    # Defaults: stretch half the target-critical distance beyond target, ideal as far again; a KPI
    # whose best possible value is near its target (100 %, 0 days) names them in the pack.
    stretch: float | None = None
    ideal: float | None = None

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Self:
        if self.is_better(self.critical, self.target):
            raise ValueError(f"{self.id}: target {self.target} must be at least as good as critical")
        if self.is_better(self.target, self.stretch_value) or self.is_better(
            self.stretch_value, self.ideal_value
        ):
            raise ValueError(f"{self.id}: needs target <= stretch <= ideal (in the better direction)")
        if self.target == self.critical and self.decay_span is None:
            raise ValueError(f"{self.id}: target equals critical, so decay_span is required")
        if self.trend != (self.unit == "percent_change"):
            raise ValueError(f"{self.id}: trend KPIs (and only they) have unit percent_change")
        return self

    def is_better(self, a: float, b: float) -> bool:
        """True when value `a` is strictly better than value `b` for this KPI."""
        return a > b if self.direction is Direction.HIGHER else a < b

    def _beyond(self, base: float, distance: float) -> float:
        return base + distance if self.direction is Direction.HIGHER else base - distance

    @property
    def stretch_value(self) -> float:
        """The value that scores the Excellent floor (pack `stretch`, else the default)."""
        if self.stretch is not None:
            return self.stretch
        return self._beyond(self.target, abs(self.target - self.critical) / 2)

    @property
    def ideal_value(self) -> float:
        """The value that scores 100 (pack `ideal`, else as far beyond stretch as stretch is from target)."""
        if self.ideal is not None:
            return self.ideal
        return self._beyond(self.stretch_value, abs(self.stretch_value - self.target))

    @property
    def span(self) -> float:
        """Distance past the critical threshold over which the score decays from the floor to 0."""
        return self.decay_span if self.decay_span is not None else abs(self.target - self.critical)

    def format_value(self, value: float | None) -> str:
        """Display form of a value in this KPI's unit: "1.4/day", "99.92%", "18 min"; "—" if unknown."""
        if value is None:
            return "—"
        if self.unit == "percent":
            return f"{value:.2f}".rstrip("0").rstrip(".") + "%"
        return _FORMATS[self.unit].format(value)


class RefreshClass(_Frozen):
    interval_s: int = Field(gt=0)
    stale_after_s: int = Field(gt=0)


class RetentionClass(_Frozen):
    raw_days: int = Field(gt=0)
    aggregated_days: int = Field(gt=0)
    rollup: str


class InputSpec(_Frozen):
    """One dimension input of the seed's "Cascading Metrics": its weight and the KPIs feeding it."""

    id: str
    weight: float = Field(gt=0, le=1)
    kpis: tuple[str, ...] = Field(min_length=1)


class DimensionSpec(_Frozen):
    name: str
    weight: float = Field(gt=0, le=1)
    method: Literal["weighted_inputs", "security_formula"]
    inputs: tuple[InputSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Self:
        total = sum(i.weight for i in self.inputs)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"{self.name}: input weights sum to {total}, not 1")
        return self


class Normalisation(_Frozen):
    """Scores of the anchor values, and the coverage rules (docs/health-model.md)."""

    critical_floor: float = Field(gt=0, lt=100)
    target_score: float = Field(default=80.0, gt=0, lt=100)
    stretch_score: float = Field(default=90.0, gt=0, lt=100)
    min_known_weight: float = Field(gt=0, le=1)
    # Measured on less than this share of its weight, a result's band is capped at Attention.
    full_coverage: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _anchors_ordered(self) -> Self:
        if not self.critical_floor < self.target_score < self.stretch_score < 100:
            raise ValueError("needs critical_floor < target_score < stretch_score < 100")
        if self.full_coverage < self.min_known_weight:
            raise ValueError("full_coverage must be at least min_known_weight")
        return self


class KpiDictionary(_Frozen):
    """A validated KPI pack. Look KPIs up with `get`, list them with `all` / `by_dimension`."""

    pack: Literal["health-model"]
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    seed: str
    normalisation: Normalisation
    refresh_classes: dict[str, RefreshClass]
    retention_classes: dict[str, RetentionClass]
    dimensions: dict[Dimension, DimensionSpec]
    kpis: tuple[KpiDefinition, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [k.id for k in self.kpis]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate KPI ids")
        for k in self.kpis:
            if k.refresh not in self.refresh_classes or k.retention_class not in self.retention_classes:
                raise ValueError(f"{k.id}: unknown refresh or retention class")
        fed = {kpi for d in self.dimensions.values() for i in d.inputs for kpi in i.kpis}
        if not fed <= set(ids):
            raise ValueError(f"inputs name unknown KPIs: {sorted(fed - set(ids))}")
        if set(self.dimensions) != set(DIMENSIONS):
            raise ValueError("the pack must define exactly the five dimensions")
        if abs(sum(d.weight for d in self.dimensions.values()) - 1.0) > 1e-9:
            raise ValueError("dimension weights must sum to 1")
        return self

    def get(self, kpi_id: str) -> KpiDefinition:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise UnknownKpiError(kpi_id)

    def all(self) -> list[KpiDefinition]:
        return list(self.kpis)

    def by_dimension(self, dimension: str) -> list[KpiDefinition]:
        return [k for k in self.kpis if k.dimension == dimension]

    def ids(self) -> list[str]:
        return [k.id for k in self.kpis]

    def stale_after_s(self, kpi_id: str) -> int:
        """Age in seconds after which a value of this KPI is stale (hence Unknown)."""
        return self.refresh_classes[self.get(kpi_id).refresh].stale_after_s


def parse_dictionary(text: str) -> KpiDictionary:
    """Validate a pack given as YAML text (raises pydantic.ValidationError when invalid)."""
    return packs.parse(KpiDictionary, text)


@cache
def load_dictionary(pack: str = DEFAULT_PACK) -> KpiDictionary:
    """The KPI dictionary shipped in `companyos/domain/packs/` (parsed once per process)."""
    return parse_dictionary(packs.text("companyos.domain", pack))
