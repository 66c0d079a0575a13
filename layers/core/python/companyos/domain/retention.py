"""How long each signal kind is kept: the seed's "Metric Retention Policy" as data.

The retention classes (raw / aggregated days) come from the KPI pack (`retention_classes` in
`domain/packs/health-model-v1.yaml`: service 15 d / 2 y, business 30 d / 5 y, security 90 d / 7 y,
financial 30 d / 7 y). Every signal kind maps to one class and one tier:

* `raw` — high-frequency telemetry samples (a Prometheus sample, a flag evaluation, an analytics
  event): kept for the class's raw days. Windows longer than that read a rollup kind instead
  (`slo_window` is the 1 h / 1 d rollup of request counts the Prometheus pull writes, `prom_daily`
  the daily mean of a sampled ratio such as utilisation).
* `aggregated` — discrete events (a deployment, an incident transition, a billing change, a
  vulnerability transition) and rollups. An event is already the coarsest record of what happened:
  there is no finer series behind it to roll up, so it *is* the aggregate and keeps the class's
  aggregated days. This is what lets the KPI runs read 730 days of `deployment` signals (365-day
  windows + the previous window) although the service class keeps raw samples only 15 days.

The TTL counts from the signal's own time (`occurred_at`): retention is about the age of the data,
not about when we happened to receive it. A unit test checks that every kind a KPI contract reads
from the signals table lives at least as long as the longest window the runs read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from companyos.domain.kpis import RetentionClass, load_dictionary

Tier = Literal["raw", "aggregated"]


@dataclass(frozen=True)
class KindRetention:
    kind: str
    retention_class: str  # service / business / security / financial (the pack's classes)
    tier: Tier

    @property
    def days(self) -> int:
        cls = retention_classes()[self.retention_class]
        return cls.raw_days if self.tier == "raw" else cls.aggregated_days


# kind -> (retention class, tier). Data, not code: a new signal kind adds one line here
# (a unit test fails for any kind a source emits without an entry).
KINDS: dict[str, KindRetention] = {
    k.kind: k
    for k in (
        # engineering and incident events (GitHub, PagerDuty): events are their own rollup
        KindRetention("deployment", "service", "aggregated"),
        KindRetention("deployment_created", "service", "aggregated"),
        KindRetention("build", "service", "aggregated"),
        KindRetention("change", "service", "aggregated"),
        KindRetention("commit", "service", "aggregated"),
        KindRetention("coverage_report", "service", "aggregated"),  # a CI coverage report: one per upload
        KindRetention("incident", "service", "aggregated"),
        KindRetention("postmortem", "service", "aggregated"),  # GitHub issues labelled `postmortem`
        # Prometheus: instant samples are raw; windows (SLO good/total per window) are the rollup
        KindRetention("prom_sample", "service", "raw"),
        KindRetention("slo_window", "service", "aggregated"),
        KindRetention("prom_daily", "service", "aggregated"),  # daily means of samples (the rollup)
        # security events: the seed keeps them 7 years (compliance)
        KindRetention("vulnerability", "security", "aggregated"),
        KindRetention("secret_finding", "security", "aggregated"),
        KindRetention("authz_decision", "security", "aggregated"),
        KindRetention("finding_state", "security", "aggregated"),  # fixed findings; open never expire
        # threat detection (Okta / Auth0 / CloudTrail sign-ins, WAF rule actions, GuardDuty findings)
        # and security review requests (GitHub): security events, kept like the decisions
        KindRetention("auth_event", "security", "aggregated"),
        KindRetention("waf_request", "security", "aggregated"),
        KindRetention("threat_finding", "security", "aggregated"),
        KindRetention("security_review", "security", "aggregated"),
        KindRetention("compliance_check", "security", "aggregated"),  # Prowler / Security Hub results
        # product telemetry: raw samples; `product_daily` is their daily rollup (sources/product_rollup.py)
        KindRetention("product_session", "business", "raw"),
        KindRetention("product_active", "business", "raw"),
        KindRetention("feature_used", "business", "raw"),
        KindRetention("flag_evaluation", "business", "raw"),
        KindRetention("product_daily", "business", "aggregated"),
        # business and financial facts
        KindRetention("nps_response", "business", "aggregated"),
        KindRetention("okr_progress", "business", "aggregated"),
        KindRetention("billing_event", "financial", "aggregated"),
        # a Stripe subscription as each of its events shows it (status, scheduled cancellation)
        KindRetention("subscription_state", "financial", "aggregated"),
        # time tracking (Toggl / Jira worklogs): an entry is an event, its own aggregate
        KindRetention("ops_time", "business", "aggregated"),
        KindRetention("revenue_event", "financial", "aggregated"),  # Stripe invoices paid, refunds
        KindRetention("finance_month", "financial", "aggregated"),  # the monthly finance upload
    )
}


# rollup kind -> the raw kinds it aggregates. A KPI may read a raw kind for the days not rolled up
# yet only if it also reads the rollup (a unit test checks this for every contract).
ROLLUPS: dict[str, tuple[str, ...]] = {
    "product_daily": ("product_active", "product_session", "feature_used"),
    "prom_daily": ("prom_sample",),
}


@cache
def retention_classes() -> dict[str, RetentionClass]:
    return dict(load_dictionary().retention_classes)


def of_kind(kind: str) -> KindRetention | None:
    return KINDS.get(kind)


def expires_at(kind: str, occurred_at: datetime, received_at: datetime, fallback_days: int) -> datetime:
    """The TTL of a signal: its time + its class/tier's days. A kind without an entry keeps the
    source's own `retention_days` from the time it was received (never silently forever)."""
    rule = KINDS.get(kind)
    if rule is None:
        return received_at + timedelta(days=fallback_days)
    return occurred_at + timedelta(days=rule.days)
