"""Source plug-ins by the name used in `POST /api/ingest/{source}` (see docs/sources.md)."""

from __future__ import annotations

from companyos.domain.errors import NotFound
from companyos.sources import own
from companyos.sources.auth_logs import Auth0Source, CloudTrailSource, OktaSource
from companyos.sources.base import Source
from companyos.sources.compliance import PROWLER, SECURITY_HUB
from companyos.sources.coverage import CoverageSource
from companyos.sources.finance import FinanceSource
from companyos.sources.github import GitHubSource
from companyos.sources.pagerduty import PagerDutySource
from companyos.sources.scanners import GitleaksSource, SnykSource, TrivySource
from companyos.sources.stripe import StripeSource
from companyos.sources.threat_logs import AwsWafSource, GuardDutySource
from companyos.sources.time_tracking import TimeTrackingSource

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        GitHubSource(),
        PagerDutySource(),
        TrivySource(),
        SnykSource(),
        GitleaksSource(),
        own.OpaSource(),
        own.FeatureFlagSource(),
        own.ANALYTICS,
        own.NPS,
        own.BILLING,
        own.OKR,
        TimeTrackingSource(),
        StripeSource(),
        FinanceSource(),
        OktaSource(),
        Auth0Source(),
        CloudTrailSource(),
        AwsWafSource(),
        GuardDutySource(),
        CoverageSource(),
        PROWLER,
        SECURITY_HUB,
    )
}


def get(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError as exc:
        raise NotFound(f"unknown source '{name}'", code="unknown_source") from exc
