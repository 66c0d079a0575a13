"""Persona dashboard layouts (exec-cockpit-spec.md), as data: panels, their KPIs, max staleness.

A panel whose data has no working pipeline yet is `not_built` with the plain reason; it never shows
invented numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    kind: str  # kpi_tiles | not_built
    kpis: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Layout:
    persona: str
    title: str
    max_staleness_s: int  # exec-cockpit-spec.md "Data Freshness Requirements"
    panels: tuple[Panel, ...]


def _todo(pid: str, title: str, needs: str) -> Panel:
    return Panel(pid, title, "not_built", reason=f"Not built yet: needs {needs}.")


LAYOUTS: dict[str, Layout] = {
    "ceo": Layout(
        "ceo",
        "Business Overview",
        3600,
        (
            Panel(
                "headline",
                "Headline KPIs",
                "kpi_tiles",
                ("arr_growth_rate", "net_revenue_retention", "active_tenants_dau", "slo_attainment"),
            ),
            _todo("risks", "Key risks", "alert evaluation (persona alerts)"),
            _todo("okrs", "OKR progress", "OKR progress ingestion"),
        ),
    ),
    "cto": Layout(
        "cto",
        "Technical Health",
        300,
        (
            _todo("platform", "Platform status", "PagerDuty incident ingestion"),
            _todo("slo", "SLO performance", "per-service SLO ingestion from Prometheus"),
            Panel(
                "dora",
                "DORA metrics",
                "kpi_tiles",
                ("deployment_frequency", "lead_time_for_changes", "change_failure_rate", "mttr"),
            ),
            _todo("burn", "Error budget burn", "per-service SLO ingestion from Prometheus"),
            _todo("incidents", "Recent incidents", "PagerDuty incident ingestion"),
            Panel(
                "architecture", "Architecture health", "kpi_tiles", ("test_coverage", "build_success_rate")
            ),
        ),
    ),
    "ciso": Layout(
        "ciso",
        "Security Posture",
        900,
        (
            Panel(
                "security",
                "Security KPIs",
                "kpi_tiles",
                (
                    "critical_cve_age",
                    "vuln_sla_compliance",
                    "abac_policy_coverage",
                    "failed_auth_attempts",
                    "secret_scan_violations",
                    "compliance_score",
                ),
            ),
            _todo("vulns", "Vulnerability summary", "Trivy/Snyk report ingestion"),
            _todo("compliance", "Compliance controls", "compliance control inventory"),
        ),
    ),
    "ops": Layout(
        "ops",
        "Platform Operations",
        60,
        (
            Panel(
                "operations",
                "Operations KPIs",
                "kpi_tiles",
                ("p1_incident_count", "mttr", "error_budget_burn_rate", "infra_utilization", "toil_ratio"),
            ),
            Panel("cost", "Cost", "kpi_tiles", ("infra_cost_per_active_unit", "gross_margin")),
            _todo("capacity", "Capacity", "Prometheus capacity metrics"),
        ),
    ),
    "product": Layout(
        "product",
        "Product Adoption",
        3600,
        (
            Panel(
                "adoption",
                "Adoption KPIs",
                "kpi_tiles",
                (
                    "active_tenants_dau",
                    "weekly_active_users",
                    "feature_adoption_rate",
                    "api_call_volume",
                    "session_duration",
                    "nps_score",
                ),
            ),
            _todo("features", "Feature adoption", "feature-flag evaluation ingestion"),
            _todo("funnel", "Engagement funnel", "product analytics ingestion"),
        ),
    ),
}
