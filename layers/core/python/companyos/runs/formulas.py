"""Built-in KPI formulas over daily buckets of signals.

The source step folds signals into per-day counters (small enough for a state machine payload);
a formula turns the counters of one window into a value (None = not computable, with a reason).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from companyos.model import dora

Buckets = Mapping[str, Mapping[str, float]]  # "yyyy-mm-dd" -> counters


@dataclass(frozen=True)
class Outcome:
    value: float | None
    reason: str | None = None


def bucket_deployment(attributes: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, float] | None:
    """A deployment signal → counters, or None if it is outside the contract (e.g. not production)."""
    envs = params.get("environments")
    if envs and str(attributes.get("environment", "")).lower() not in envs:
        return None
    return {"total": 1.0, "failed": 0.0 if attributes.get("succeeded") else 1.0}


BUCKETERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, float] | None]] = {
    "deployment": bucket_deployment,
}


def window_sum(buckets: Buckets, end: date, days: int, counter: str) -> float:
    return sum(buckets.get((end - timedelta(days=i)).isoformat(), {}).get(counter, 0.0) for i in range(days))


def deployment_frequency(buckets: Buckets, end: date, days: int) -> Outcome:
    """Deploys per day over the window (kpi-health-model.md: Deployment Frequency)."""
    return Outcome(window_sum(buckets, end, days, "total") / days)


def change_failure_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    """Failed deploys / total deploys over the window (DORA team-level definition in the seed)."""
    total = int(window_sum(buckets, end, days, "total"))
    failed = int(window_sum(buckets, end, days, "failed"))
    value = dora.change_failure_rate(total, failed)
    return Outcome(value, None if value is not None else f"no production deployments in the last {days} days")


FORMULAS: dict[str, Callable[[Buckets, date, int], Outcome]] = {
    "deployment_frequency": deployment_frequency,
    "change_failure_rate": change_failure_rate,
}
