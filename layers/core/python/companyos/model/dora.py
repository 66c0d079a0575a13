"""DORA metrics and performance levels from versioned benchmark sets (`packs/dora-<year>.yaml`).

Units follow the KPI dictionary: deployment frequency in deploys/day, lead time in hours, change
failure rate in percent (0-100), time to restore in minutes (mean, as the seed's MTTR rule
`avg(incident_resolution_seconds)`).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_BENCHMARK = "dora-2024"
DoraMetric = Literal["deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore"]
METRICS: tuple[DoraMetric, ...] = (
    "deployment_frequency",
    "lead_time",
    "change_failure_rate",
    "time_to_restore",
)
# KPI ids of the dictionary (and other common names) accepted for the four DORA metrics.
ALIASES: dict[str, DoraMetric] = {
    "deployment_frequency": "deployment_frequency",
    "lead_time": "lead_time",
    "lead_time_for_changes": "lead_time",
    "change_failure_rate": "change_failure_rate",
    "change_fail_rate": "change_failure_rate",
    "time_to_restore": "time_to_restore",
    "mttr": "time_to_restore",
    "failed_deployment_recovery_time": "time_to_restore",
}


class Level(StrEnum):
    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class UnknownBenchmarkError(KeyError):
    """A benchmark set id that is not shipped."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelBound(_Frozen):
    """A level's bound; `report` is the report's own wording of the cluster's range or value."""

    bound: float | None = None
    strict: bool = False
    report: str


class MetricBenchmark(_Frozen):
    report_name: str
    unit: str
    better: Literal["higher", "lower"]
    levels: dict[Level, LevelBound]

    @model_validator(mode="after")
    def _all_levels(self) -> Self:
        if set(self.levels) != set(Level):
            raise ValueError("every metric needs elite, high, medium and low")
        return self

    def meets(self, value: float, level: Level) -> bool:
        b = self.levels[level]
        if b.bound is None:
            return False
        if self.better == "higher":
            return value > b.bound if b.strict else value >= b.bound
        return value < b.bound if b.strict else value <= b.bound

    def classify(self, value: float) -> Level:
        """The best level whose bound the value meets; Low when it meets none."""
        return next((lvl for lvl in Level if self.meets(value, lvl)), Level.LOW)


class BenchmarkSet(_Frozen):
    set: str
    report: str
    published: str
    source: str
    metrics: dict[DoraMetric, MetricBenchmark]
    respondents: dict[Level, float] = Field(default_factory=dict)


class DoraAssessment(_Frozen):
    """Per-metric levels of one team or tenant against one benchmark set (None = no data)."""

    benchmark: str
    values: dict[DoraMetric, float | None]
    levels: dict[DoraMetric, Level | None]


# ------------------------------------------------------------------------------- metrics


def deployment_frequency(
    deploy_times: Sequence[datetime], window_days: float, *, end: datetime | None = None
) -> float:
    """Deploys per day over a window of `window_days`.

    With `end`, only deploys in (end - window, end] count; otherwise every given deploy counts.
    """
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    if end is None:
        count = len(deploy_times)
    else:
        start = end - timedelta(days=window_days)
        count = sum(1 for t in deploy_times if start < t <= end)
    return count / window_days


def change_failure_rate(total: int, failed: int) -> float | None:
    """Failed / total deploys as a percentage (0-100); None when there were no deploys."""
    if total < 0 or failed < 0 or failed > total:
        raise ValueError("need 0 <= failed <= total")
    if total == 0:
        return None
    return 100.0 * failed / total


def lead_time_hours(pairs: Sequence[tuple[datetime, datetime]]) -> float | None:
    """Median commit -> deploy time in hours over (commit_time, deploy_time) pairs; None if empty."""
    if not pairs:
        return None
    hours = [(deployed - committed).total_seconds() / 3600 for committed, deployed in pairs]
    if min(hours) < 0:
        raise ValueError("a deploy precedes its commit")
    return float(statistics.median(hours))


def time_to_restore_minutes(durations_min: Sequence[float]) -> float | None:
    """Mean time to restore in minutes (the seed's MTTR is a mean); None if there were no incidents."""
    if not durations_min:
        return None
    if min(durations_min) < 0:
        raise ValueError("negative restore duration")
    return float(statistics.fmean(durations_min))


# ------------------------------------------------------------------------------- benchmarks


@cache
def _shipped() -> dict[str, BenchmarkSet]:
    packs = resources.files("companyos.model").joinpath("packs")
    sets = (
        BenchmarkSet.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
        for p in packs.iterdir()
        if p.name.startswith("dora-") and p.name.endswith(".yaml")
    )
    return {s.set: s for s in sets}


def benchmark_sets() -> list[str]:
    """Ids of the shipped benchmark sets, oldest first (e.g. ["dora-2023", "dora-2024"])."""
    return sorted(_shipped())


def benchmark_set(set_id: str = DEFAULT_BENCHMARK) -> BenchmarkSet:
    """One shipped benchmark set by id (raises UnknownBenchmarkError)."""
    try:
        return _shipped()[set_id]
    except KeyError:
        raise UnknownBenchmarkError(set_id) from None


def metric_name(metric: str) -> DoraMetric:
    """The DORA metric a name or KPI id stands for (e.g. "mttr" -> "time_to_restore")."""
    try:
        return ALIASES[metric]
    except KeyError:
        raise ValueError(f"not a DORA metric: {metric}") from None


def performance_level(metric: str, value: float, benchmark: str = DEFAULT_BENCHMARK) -> Level:
    """Elite/high/medium/low of one metric value against a benchmark set (selectable per tenant)."""
    return benchmark_set(benchmark).metrics[metric_name(metric)].classify(value)


def assess(values: Mapping[str, float | None], benchmark: str = DEFAULT_BENCHMARK) -> DoraAssessment:
    """Levels of every DORA metric given (by metric name or KPI id); a missing/None value has none."""
    named = {metric_name(k): v for k, v in values.items()}
    vals: dict[DoraMetric, float | None] = {m: named.get(m) for m in METRICS}
    levels: dict[DoraMetric, Level | None] = {
        m: None if v is None else performance_level(m, v, benchmark) for m, v in vals.items()
    }
    return DoraAssessment(benchmark=benchmark, values=vals, levels=levels)
