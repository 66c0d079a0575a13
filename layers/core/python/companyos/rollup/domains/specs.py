"""What the roll-up is asked and reads: the period, one tenant's snapshot and inventory posture, and
the six domains with their metrics (which KPI each reads, how the org value aggregates it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from companyos.adapters.repos import Tenant

Agg = Literal["sum", "mean", "max", "pooled"]


# ------------------------------------------------------------------ period


@dataclass(frozen=True)
class Period:
    """The requested period. `window` is the snapshot period the values come from (a custom range is
    answered by the smallest standard window that covers it, ending on its last day)."""

    key: str  # 7d / 28d / 90d / 365d / custom
    window: str
    days: int
    start: date
    end: date  # the end-of-day snapshot's day ("as of")

    @property
    def previous_end(self) -> date:
        return self.start - timedelta(days=1)

    def points(self) -> list[date]:
        """Sparkline days: daily up to 28 days, weekly beyond (like the KPI series)."""
        step = 1 if self.days <= 28 else 7
        return [self.end - timedelta(days=i * step) for i in range(self.days // step - 1, -1, -1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "window": self.window,
            "days": self.days,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class TenantData:
    """What the roll-up read for one tenant: its KPI snapshot and inventory posture (either may be
    missing), with the timestamps they were computed at."""

    tenant: Tenant
    snapshot: Mapping[str, Any] | None = None
    snapshot_at: datetime | None = None
    snapshot_day: str | None = None
    posture: Mapping[str, Any] | None = None
    posture_at: datetime | None = None


@dataclass(frozen=True)
class MetricSpec:
    id: str
    name: str
    unit: str
    better: Literal["higher", "lower"]
    org: Agg
    kpis: tuple[str, ...] = ()  # candidate KPI ids in the snapshot (first present wins)
    # else a field of the incident rows the snapshot holds (delivered with the mttr run)
    incident_rows: str = ""


@dataclass(frozen=True)
class DomainSpec:
    id: str
    name: str
    persona: str  # the tenant dashboard a card deep-links to
    metrics: tuple[MetricSpec, ...] = ()
    headline: str = ""
    description: str = ""
    source: Literal["snapshot", "inventory"] = "snapshot"
    extra: dict[str, Any] = field(default_factory=dict)


DOMAINS: tuple[DomainSpec, ...] = (
    DomainSpec(
        "dora",
        "DORA delivery",
        "cto",
        (
            MetricSpec(
                "deployment_frequency",
                "Deploy frequency",
                "per_day",
                "higher",
                "mean",  # per tenant: the KPI's target is a tenant's, so is the org value judged
                ("deployment_frequency",),
            ),
            MetricSpec(
                "lead_time_for_changes", "Lead time", "hours", "lower", "mean", ("lead_time_for_changes",)
            ),
            MetricSpec(
                "change_failure_rate",
                "Change failure rate",
                "percent",
                "lower",
                "mean",
                ("change_failure_rate",),
            ),
            MetricSpec("mttr", "MTTR", "minutes", "lower", "mean", ("mttr",)),
        ),
        headline="change_failure_rate",
        description="The four DORA keys from each tenant's end-of-day KPI snapshot.",
    ),
    DomainSpec(
        "incidents",
        "Incidents",
        "ops",
        (
            MetricSpec("open", "Open incidents", "count", "lower", "sum", incident_rows="open"),
            MetricSpec("mtta", "MTTA", "minutes", "lower", "mean", incident_rows="mtta_min"),
            MetricSpec("mttr", "MTTR", "minutes", "lower", "mean", ("mttr",)),
            MetricSpec(
                "postmortem_coverage",
                "Postmortem coverage",
                "percent",
                "higher",
                "mean",
                incident_rows="postmortem_pct",
            ),
        ),
        headline="mttr",
        description="Open incidents, time to acknowledge and restore, postmortem coverage.",
    ),
    DomainSpec(
        "slos",
        "SLOs",
        "ops",
        (
            MetricSpec("objectives_in_budget", "Objectives in budget", "percent", "higher", "pooled"),
            MetricSpec("fastest_burn", "Fastest burn", "ratio_x", "lower", "max"),
        ),
        headline="objectives_in_budget",
        description="Service objectives whose error budget is not spent (of those measured); the fastest "
        "error-budget burn rate. From each tenant's per-service SLO rows.",
    ),
    DomainSpec(
        "compliance",
        "Compliance",
        "ciso",
        headline="pass_rate",
        description="Control pass rate per framework (controls and evidence managed through the API).",
        source="inventory",
    ),
    DomainSpec(
        "certificates",
        "Certificate health",
        "ops",
        headline="within_30",
        description="Certificates expiring within 7 / 30 / 90 days (certificate inventory).",
        source="inventory",
    ),
    DomainSpec(
        "vendors",
        "Vendor risk",
        "ciso",
        headline="tier1_out_of_review",
        description="Tier-1 vendors whose review is overdue (vendor inventory).",
        source="inventory",
    ),
)


DOMAIN_IDS = tuple(d.id for d in DOMAINS)
