"""Which KPI runs deliver each snapshot panel's breakdown rows (runs/rows*.py): the snapshot copies
them from the delivered runs (views/snapshots.py), row alert rules read them (alerts/observe.py),
lineage draws the edge from the KPI to the rules that read its rows (admin/lineage.py)."""

from __future__ import annotations

# A panel fed by two runs merges them.
PANEL_RUNS: dict[str, tuple[str, ...]] = {
    "slo": ("slo_attainment",),
    "endpoints": ("slo_attainment",),
    "dependencies": ("slo_attainment",),
    "burn": ("error_budget_burn_rate",),
    "capacity": ("infra_utilization",),
    "vulns": ("vuln_sla_compliance",),
    "security_events": ("secret_scan_violations", "failed_auth_attempts"),
    "threats": ("failed_auth_attempts",),
    "incidents": ("mttr",),
    "deployments": ("deployment_frequency",),
    "features": ("feature_adoption_rate",),
    "funnel": ("feature_adoption_rate",),
    "nps": ("nps_score",),
    "coverage": ("test_coverage",),  # the KPI deep dive's per-service rows (views/drilldown)
    "compliance": ("compliance_score",),
    "accounts_at_risk": ("net_revenue_retention",),  # Stripe subscriptions at risk of churn (CEO)
}
