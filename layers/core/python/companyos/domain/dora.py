"""DORA metrics and performance levels from versioned benchmark sets (`packs/dora-<year>.yaml`).

Definitions as DORA states them (docs/health-model.md, checked against Apache DevLake's e2e data):

* deployment frequency: successful production deployments per day, with the median number of
  distinct deployment days per calendar week / month beside it; the level is read from those
  medians (elite: >= 5 days a week, high: >= 1 day a week, medium: >= 1 day a month), as DevLake does;
* change failure rate: successful production deployments linked to an incident (or remediated by a
  rollback / hotfix) over successful production deployments, in percent (0-100);
* lead time for changes: per change (a pull request, else a commit), first commit -> deployed to
  production, in hours; the median over the changes;
* time to restore: incident start -> resolution in minutes; the median over the incidents.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from companyos.domain import packs

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


class DeploymentDaysBound(_Frozen):
    """A deployment-frequency level read from the median number of distinct deployment days per
    calendar week or month (DevLake's reading of the report's "once per day / week / month")."""

    per: Literal["week", "month"]
    min_days: float


class MetricBenchmark(_Frozen):
    report_name: str
    unit: str
    better: Literal["higher", "lower"]
    levels: dict[Level, LevelBound]
    deployment_days: dict[Level, DeploymentDaysBound] = Field(default_factory=dict)

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

    def classify_deployment_days(self, per_week: float, per_month: float) -> Level:
        """The best level whose median deployment days (per week or month) are reached; Low otherwise."""
        medians = {"week": per_week, "month": per_month}
        return next(
            (lvl for lvl in Level if lvl in self.deployment_days
             and medians[self.deployment_days[lvl].per] >= self.deployment_days[lvl].min_days),
            Level.LOW,
        )  # fmt: skip


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
    """Successful production deployments per day over a window of `window_days`.

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


def lower_median(values: Iterable[float]) -> float | None:
    """The lower middle value (DevLake's `max(x) where percent_rank() <= 0.5`); None if empty."""
    ordered = sorted(values)
    return None if not ordered else float(ordered[(len(ordered) - 1) // 2])


WEEK_DAYS, MONTH_DAYS = 7, 30


def deployment_days_medians(deploy_days: Iterable[date], end: date, window_days: int) -> tuple[float, float]:
    """Median number of distinct deployment days per week and per month over the window of
    `window_days` ending at `end` (inclusive).

    Weeks and months are whole 7- and 30-day blocks counted back from the window's end (a 28-day
    window is four weeks; days left over at its start are not a block). A window shorter than a
    block counts its deployment days scaled to the block (2 days in 28 -> 2.1 a month). DevLake's
    dashboard uses calendar weeks and months, whose partial ends at the window's edges would make
    a daily deployer "high" on any 7-day window that does not start on a Monday. Lower medians
    (DevLake's `percent_rank() <= 0.5`): a count of days stays a whole number."""
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    start = end - timedelta(days=window_days - 1)
    days = {d for d in deploy_days if start <= d <= end}

    def per(block: int) -> float:
        blocks = window_days // block
        if blocks == 0:
            return len(days) * block / window_days
        counts = [sum(1 for d in days if 0 <= (end - d).days - i * block < block) for i in range(blocks)]
        return lower_median(counts) or 0.0

    return per(WEEK_DAYS), per(MONTH_DAYS)


def change_failure_rate(deployments: int, failed: int) -> float | None:
    """Failed changes / successful production deployments in percent (0-100); None without deployments.

    `failed` counts the deployments linked to an incident or remediated by a rollback / hotfix."""
    if deployments < 0 or failed < 0 or failed > deployments:
        raise ValueError("need 0 <= failed <= deployments")
    if deployments == 0:
        return None
    return 100.0 * failed / deployments


def change_lead_time_hours(
    first_commit: datetime | None, opened: datetime | None, merged: datetime | None, deployed: datetime
) -> float | None:
    """One change's lead time in hours: first commit -> (PR opened -> merged ->) deployed to production.

    The time is the sum of the change's stages (coding: first commit -> opened, review: opened ->
    merged, deploy: merged -> deployed); a stage whose end precedes its start (a rebased first
    commit, a merge recorded after the deploy) counts 0, as DevLake drops negative stages. A commit
    without a pull request is one stage, commit -> deployed. None when no stage is known."""
    points = [t for t in (first_commit, opened, merged) if t is not None] + [deployed]
    if len(points) < 2:
        return None
    seconds = sum(max(0.0, (b - a).total_seconds()) for a, b in itertools.pairwise(points))
    return seconds / 3600


def lead_time_hours(pairs: Sequence[tuple[datetime, datetime]]) -> float | None:
    """Median commit -> deploy time in hours over (commit_time, deploy_time) pairs; None if empty."""
    if not pairs:
        return None
    hours = [(deployed - committed).total_seconds() / 3600 for committed, deployed in pairs]
    if min(hours) < 0:
        raise ValueError("a deploy precedes its commit")
    return float(statistics.median(hours))


def time_to_restore_minutes(durations_min: Sequence[float]) -> float | None:
    """Median time to restore in minutes (DORA's "time to restore service" is a median); None if
    there were no incidents."""
    if not durations_min:
        return None
    if min(durations_min) < 0:
        raise ValueError("negative restore duration")
    return float(statistics.median(durations_min))


# ------------------------------------------------------------------------------- benchmarks


@cache
def _shipped() -> dict[str, BenchmarkSet]:
    sets = (
        packs.parse(BenchmarkSet, packs.text("companyos.domain", name))
        for name in packs.names("companyos.domain", "dora-")
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


def deployment_frequency_level(
    days_per_week: float, days_per_month: float, benchmark: str = DEFAULT_BENCHMARK
) -> Level:
    """Deployment-frequency level from the median deployment days per week / month (DevLake's
    reading: ten deploys every Monday is one day a week, High, not ten a week)."""
    return (
        benchmark_set(benchmark)
        .metrics["deployment_frequency"]
        .classify_deployment_days(days_per_week, days_per_month)
    )


def assess(values: Mapping[str, float | None], benchmark: str = DEFAULT_BENCHMARK) -> DoraAssessment:
    """Levels of every DORA metric given (by metric name or KPI id); a missing/None value has none."""
    named = {metric_name(k): v for k, v in values.items()}
    vals: dict[DoraMetric, float | None] = {m: named.get(m) for m in METRICS}
    levels: dict[DoraMetric, Level | None] = {
        m: None if v is None else performance_level(m, v, benchmark) for m, v in vals.items()
    }
    return DoraAssessment(benchmark=benchmark, values=vals, levels=levels)
