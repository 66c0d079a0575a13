"""KPI contracts of the built-in health-model KPIs that have a working source today.

A contract says where a KPI's inputs come from, how it is computed, which validations gate it and
when it runs. KPIs of the health model without a contract here have no working source connector yet;
the cockpit shows them as Unknown with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from companyos.errors import NotFound

PERIODS: dict[str, int] = {"7d": 7, "28d": 28, "90d": 90, "365d": 365}
MAX_WINDOW_DAYS = max(PERIODS.values()) * 2  # current + previous window, for deltas


@dataclass(frozen=True)
class Rule:
    id: str
    type: str  # availability / freshness / non_negative / value_range / variance
    severity: Literal["warn", "error"]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRef:
    source_type: Literal["signal", "kpi"]
    kind: str  # signal kind in the signals table
    object: str  # human name of the source object, e.g. github.deployment_status


@dataclass(frozen=True)
class Contract:
    kpi_id: str
    version: str
    sources: tuple[SourceRef, ...]
    formula: str
    pre_rules: tuple[Rule, ...]
    post_rules: tuple[Rule, ...]
    schedule_class: str
    schedule_cron: str
    sla_max_duration_s: int
    params: dict[str, Any] = field(default_factory=dict)
    time_grain: str = "day"


_DEPLOYMENTS = SourceRef("signal", "deployment", "github.deployment_status")
_PROD = {"environments": ["production", "prod"]}

CONTRACTS: dict[str, Contract] = {
    c.kpi_id: c
    for c in (
        Contract(
            kpi_id="deployment_frequency",
            version="1.0.0",
            sources=(_DEPLOYMENTS,),
            formula="deployment_frequency",
            pre_rules=(
                Rule("deployments_available", "availability", "error", {"min_rows": 1}),
                Rule("deployments_fresh", "freshness", "warn", {"max_age_hours": 24 * 7}),
            ),
            post_rules=(
                Rule("frequency_non_negative", "value_range", "error", {"min": 0}),
                Rule("frequency_variance", "variance", "warn", {"max_change_pct": 300}),
            ),
            schedule_class="realtime",
            schedule_cron="rate(5 minutes)",
            sla_max_duration_s=300,
            params=_PROD,
        ),
        Contract(
            kpi_id="change_failure_rate",
            version="1.0.0",
            sources=(_DEPLOYMENTS,),
            formula="change_failure_rate",
            pre_rules=(
                Rule("deployments_available", "availability", "error", {"min_rows": 1}),
                Rule("deployments_fresh", "freshness", "warn", {"max_age_hours": 24 * 7}),
            ),
            post_rules=(
                Rule("rate_is_percentage", "value_range", "error", {"min": 0, "max": 100}),
                Rule("rate_variance", "variance", "warn", {"max_change_pct": 300}),
            ),
            schedule_class="realtime",
            schedule_cron="rate(5 minutes)",
            sla_max_duration_s=300,
            params=_PROD,
        ),
    )
}


def get(kpi_id: str) -> Contract:
    try:
        return CONTRACTS[kpi_id]
    except KeyError as exc:
        raise NotFound(f"no contract for KPI '{kpi_id}'", code="contract_not_found") from exc


def consumers_of(signal_kind: str) -> list[str]:
    """KPIs whose inputs include a signal kind (event-triggered runs after ingestion)."""
    return [c.kpi_id for c in CONTRACTS.values() if any(s.kind == signal_kind for s in c.sources)]


def of_schedule(schedule_class: str) -> list[str]:
    return [c.kpi_id for c in CONTRACTS.values() if c.schedule_class == schedule_class]
