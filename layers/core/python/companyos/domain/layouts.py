"""Persona dashboard layouts (exec-cockpit-spec.md wireframes), as data.

Every panel of every persona's wireframe is listed here, in the wireframe's order. A panel is fed by
one of two things (`Panel.__post_init__` refuses a panel fed by neither):

- `kpis`: KPI entries of the score snapshot (tiles, tables of KPIs);
- `source`: a builder in `views/panels/` over the snapshot (health dimensions, risks, scores) or
  over the row data the score refresh stored with it (`views/panels_data.py`: incidents, deployments,
  services, ...).

`needs` names the data a `source` panel shows: the reason given ("No data yet: …", kind `not_built`)
when the tenant has not sent it yet, so a panel switches itself on when its data lands.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    kind: str  # kpi_tiles | score | status | table | bars | timeline | dimensions | list | funnel |
    # distribution | links | not_built
    kpis: tuple[str, ...] = ()
    source: str = ""  # builder name in views/panels/
    needs: str = ""  # the data a source panel shows: its reason while none has arrived
    width: str = "half"  # full | half — the wireframe's column span
    drills: tuple[str, ...] = ()  # drill-down kinds offered from this panel (links panels)

    def __post_init__(self) -> None:
        if not (self.kpis or self.source):
            raise ValueError(f"panel {self.id!r} is fed by neither KPIs nor a source")


@dataclass(frozen=True)
class Layout:
    persona: str
    title: str
    max_staleness_s: int  # exec-cockpit-spec.md "Data Freshness Requirements"
    panels: tuple[Panel, ...]
    window: str  # the wireframe's default window, e.g. "Last 30 days"


_PD = "PagerDuty incident ingestion"
_PROM_SLO = "per-service SLO good/total windows from the Prometheus pull (slo_window signals)"

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
                kpis=("arr_growth_rate", "net_revenue_retention", "active_tenants_dau", "slo_attainment"),
                width="full",
            ),
            Panel("dimensions", "Dimension scores", "dimensions", source="dimensions"),
            Panel("risks", "Key risks", "list", source="risks"),
            # the wireframe's "⚠ 3 enterprise accounts at risk": the rows the NRR run delivers
            Panel(
                "accounts_at_risk",
                "Accounts at risk",
                "table",
                source="accounts_at_risk",
                needs="Stripe subscription events (stripe source, subscription_state signals)",
                width="full",
            ),
            Panel(
                "okrs",
                "OKR progress",
                "bars",
                source="okrs",
                needs="OKR progress updates (okr source, okr_progress signals)",
                width="full",
            ),
            Panel(
                "drill",
                "Drill down",
                "links",
                source="links",
                drills=("score", "changes", "services"),
                width="full",
            ),
        ),
        "Last 30 days",
    ),
    "cto": Layout(
        "cto",
        "Technical Health",
        300,
        (
            Panel("platform", "Platform status", "status", source="platform", needs=_PD, width="full"),
            Panel("slo", "SLO performance", "table", source="slo", needs=_PROM_SLO, width="full"),
            Panel(
                "dora",
                "DORA metrics",
                "kpi_tiles",
                kpis=("deployment_frequency", "lead_time_for_changes", "change_failure_rate", "mttr"),
            ),
            Panel("burn", "Error budget burn", "bars", source="burn", needs=_PROM_SLO),
            Panel("incidents", "Recent incidents", "timeline", source="incidents", needs=_PD),
            Panel(
                "architecture",
                "Architecture health",
                "kpi_tiles",
                kpis=("test_coverage", "build_success_rate"),
            ),
            Panel(
                "drill",
                "Drill down",
                "links",
                source="links",
                drills=("score", "incidents", "changes", "services"),
                width="full",
            ),
        ),
        "Last 7 days",
    ),
    "ciso": Layout(
        "ciso",
        "Security Posture",
        900,
        (
            Panel("security_score", "Security score", "score", source="score:security", width="full"),
            Panel(
                "security",
                "Security KPIs",
                "kpi_tiles",
                kpis=(
                    "critical_cve_age",
                    "compliance_score",
                    "abac_policy_coverage",
                    "secret_scan_violations",
                    "vuln_sla_compliance",
                    "failed_auth_attempts",
                ),
                width="full",
            ),
            Panel(
                "vulns",
                "Vulnerability summary",
                "table",
                source="vulns",
                needs="vulnerability findings from Trivy/Snyk report ingestion",
                width="full",
            ),
            Panel(
                "compliance",
                "Compliance controls",
                "table",
                source="compliance",
                needs="Prowler or Security Hub compliance reports (POST /api/ingest/prowler)",
                width="full",
            ),
            Panel(
                "threats",
                "Threat detection (24h)",
                "kpi_tiles",
                source="threats",
                needs="sign-in logs (Okta / Auth0 / CloudTrail), AWS WAF logs and GuardDuty findings",
            ),
            Panel(
                "security_events",
                "Security events (7d)",
                "timeline",
                source="security_events",
                needs="secret-scan findings (Gitleaks/Trivy) and OPA decision logs",
            ),
            Panel(
                "reviews",
                "Pending security reviews",
                "list",
                source="reviews",
                needs="GitHub pull request events with a security team review request or security label",
            ),
            Panel("drill", "Drill down", "links", source="links", drills=("score",), width="full"),
        ),
        "Last 30 days",
    ),
    "ops": Layout(
        "ops",
        "Platform Operations",
        60,
        (
            Panel("platform", "Platform status", "status", source="platform", needs=_PD, width="full"),
            Panel("ops_headline", "Operations", "kpi_tiles", source="ops_headline", width="full"),
            Panel(
                "operations",
                "Operations KPIs",
                "kpi_tiles",
                kpis=(
                    "p1_incident_count",
                    "mttr",
                    "error_budget_burn_rate",
                    "infra_utilization",
                    "toil_ratio",
                ),
                width="full",
            ),
            Panel("service_map", "Service health map", "status", source="service_map"),
            Panel(
                "capacity",
                "Capacity status",
                "bars",
                source="capacity",
                needs="CPU/memory utilisation samples from the Prometheus pull "
                "(prom_sample cpu_utilisation / memory_utilisation)",
            ),
            Panel("incidents", "Recent incidents (7d)", "timeline", source="incidents", needs=_PD),
            Panel(
                "cost",
                "Cost breakdown",
                "bars",
                source="cost",
                needs="a delivered infra_cost_mtd run over the tenant's AWS CUR 2.0 export "
                "(cost by service and team)",
            ),
            Panel(
                "drill",
                "Drill down",
                "links",
                source="links",
                drills=("incidents", "changes", "services", "score"),
                width="full",
            ),
        ),
        "Last 24 hours",
    ),
    "product": Layout(
        "product",
        "Product Adoption",
        3600,
        (
            Panel("product_score", "Product health", "score", source="score:product", width="full"),
            Panel(
                "adoption",
                "Adoption KPIs",
                "kpi_tiles",
                kpis=(
                    "active_tenants_dau",
                    "weekly_active_users",
                    "session_duration",
                    "feature_adoption_rate",
                    "api_call_volume",
                    "nps_score",
                ),
                width="full",
            ),
            Panel(
                "features",
                "Feature adoption",
                "table",
                source="features",
                needs="feature_used analytics events or LaunchDarkly flag evaluations",
                width="full",
            ),
            Panel(
                "funnel",
                "Engagement funnel",
                "funnel",
                source="funnel",
                needs="product analytics events (session, active, feature_used)",
            ),
            Panel(
                "nps", "NPS distribution", "distribution", source="nps", needs="NPS survey response ingestion"
            ),
            Panel("drill", "Drill down", "links", source="links", drills=("score",), width="full"),
        ),
        "Last 30 days",
    ),
}
