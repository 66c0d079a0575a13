"""Hand-worked cases from the seed (kpi-health-model.md v0.1.0), the arithmetic written out.

One tenant, "Acme", scored KPI by KPI, dimension by dimension, to the composite, with the
reliability cascade of the seed's "KPI Cascade Architecture" (Data Platform, API Gateway, Frontend).
Normalisation (docs/health-model.md, model 2.0.0): critical -> 40, target -> 80 (Healthy floor),
stretch -> 90, ideal -> 100; between critical and target 40 + 40 * (distance from critical /
distance critical-to-target); between target and stretch 80 + 10 * (distance beyond target /
distance target-to-stretch). Stretch defaults to half the target-critical distance beyond target.
"""

from __future__ import annotations

import pytest
from companyos.domain.kpis import load_dictionary
from companyos.domain.scoring import Band, HealthResult, ServiceReliability, health

D = load_dictionary()

ACME: dict[str, float | None] = {
    # reliability (fallback inputs, 0.20 each)
    "slo_attainment": 99.7,  # t 99.9, c 99.5: 40 + 40 * (99.7 - 99.5) / 0.4 = 60
    "error_budget_burn_rate": 1.0,  # at target 1x: 80
    "change_failure_rate": 10.0,  # lower, t 5, c 15: 40 + 40 * (15 - 10) / 10 = 60
    "mttr": 45.0,  # lower, t 30, c 60: 40 + 40 * (60 - 45) / 30 = 60
    "p1_incident_count": 5.0,  # c 5: 40
    # security (the seed's formula on raw values)
    "critical_cve_age": 2.0,
    "vuln_sla_compliance": 90.0,
    "abac_policy_coverage": 97.0,
    "secret_scan_violations": 0.0,
    "compliance_score": 95.0,
    "failed_auth_attempts": 100.0,  # shown, not in the formula
    # product adoption
    "active_tenants_dau": 0.5,  # +0.5% MoM, t +1, c 0: 40 + 40 * 0.5 = 60
    "feature_adoption_rate": 45.0,  # t 60, c 30: 40 + 40 * 15 / 30 = 60
    "weekly_active_users": 2.0,  # +2% MoM: t +1, stretch +1.5, ideal +2: 100
    "session_duration": 10.0,  # t 15, c 5: 40 + 40 * 5 / 10 = 60
    "api_call_volume": 1.0,  # +1% MoM, at target: 80
    "nps_score": 35.0,  # t 50, c 20: 40 + 40 * 15 / 30 = 60
    # financials
    "net_revenue_retention": 100.0,  # t 110, c 90: 40 + 40 * 10 / 20 = 60
    "gross_margin": 72.0,  # t 70, stretch 75: 80 + 10 * 2 / 5 = 84
    "infra_cost_per_active_unit": 5.0,  # lower, +5% MoM, t 0, c +10: 40 + 40 * 5 / 10 = 60
    "cac_payback_period": 15.0,  # lower, t 12, c 18: 40 + 40 * 3 / 6 = 60
    "arr_growth_rate": 20.0,  # t 30, c 10: 40 + 40 * 10 / 20 = 60
    # efficiency
    "deployment_frequency": 5.5,  # t 10, c 1: 40 + 40 * 4.5 / 9 = 60
    "lead_time_for_changes": 14.0,  # lower, t 4, c 24: 40 + 40 * 10 / 20 = 60
    "build_success_rate": 95.0,  # at target 95: 80
    "test_coverage": 70.0,  # t 80, c 60: 40 + 40 * 10 / 20 = 60
    "infra_utilization": 50.0,  # t 60, c 40: 40 + 40 * 10 / 20 = 60
    "toil_ratio": 30.0,  # lower, t 20, c 40: 40 + 40 * 10 / 20 = 60
}

RELIABILITY = 0.20 * (60 + 80 + 60 + 60 + 40)  # = 60.0
SECURITY = (
    (100 - min(2 * 10, 100)) * 0.30 + 90 * 0.25 + 97 * 0.20 + (100 - min(0 * 50, 100)) * 0.15 + 95 * 0.10
)
PRODUCT = 0.30 * 60 + 0.25 * 60 + 0.25 * (100 + 60 + 80) / 3 + 0.20 * 60  # 18 + 15 + 20 + 12
FINANCIALS = 0.30 * 60 + 0.25 * 84 + 0.25 * (60 + 60) / 2 + 0.20 * 60  # 18 + 21 + 15 + 12
EFFICIENCY = 0.40 * (60 + 60 + 60 + 60) / 4 + 0.30 * (60 + 60) / 2 + 0.30 * (80 + 60) / 2  # 24+18+21


def _dims(h: HealthResult) -> dict[str, float | None]:
    return {d.dimension: d.score for d in h.composite.dimensions}


def test_acme_dimension_by_dimension_as_worked_by_hand():
    # Given Acme's 28 KPI values / When scored
    h = health(ACME)
    # Then every dimension is the hand-worked number
    hand = {"reliability": 60.0, "security": 90.4, "product": 65.0, "financials": 66.0, "efficiency": 63.0}
    assert dict(zip(hand, (RELIABILITY, SECURITY, PRODUCT, FINANCIALS, EFFICIENCY), strict=True)) == (
        pytest.approx(hand)
    )
    assert _dims(h) == pytest.approx(
        {
            "reliability": 60.0,
            "security": 90.4,  # 24 + 22.5 + 19.4 + 15 + 9.5
            "product": 65.0,
            "financials": 66.0,
            "efficiency": 63.0,
        }
    )
    # And each KPI's normalised score is the one in the comments above
    scores = {k.kpi_id: k.score for k in h.kpis}
    assert scores["p1_incident_count"] == pytest.approx(40.0)
    assert scores["session_duration"] == pytest.approx(60.0)
    assert scores["build_success_rate"] == pytest.approx(80.0)  # meets its target: Healthy, not Excellent
    assert scores["gross_margin"] == pytest.approx(84.0)
    # And no KPI below its target is Healthy: slo_attainment 99.7 under 99.9 is Attention
    assert {k.kpi_id: k.band for k in h.kpis}["slo_attainment"] is Band.ATTENTION


def test_acme_composite_is_the_seeds_weighted_sum_and_health_status():
    h = health(ACME)
    # 0.25 * 60 + 0.25 * 90.4 + 0.20 * 65 + 0.15 * 66 + 0.15 * 63
    # = 15.0 + 22.6 + 13.0 + 9.9 + 9.45 = 69.95
    assert h.composite.score == pytest.approx(69.95)
    assert h.composite.band is Band.ATTENTION and h.composite.known_weight == pytest.approx(1.0)  # 60-79
    contributions = {d.dimension: d.weight * d.score for d in h.composite.dimensions if d.score}
    assert contributions == pytest.approx(
        {"reliability": 15.0, "security": 22.6, "product": 13.0, "financials": 9.9, "efficiency": 9.45}
    )


def _acme_services() -> list[ServiceReliability]:
    # The seed's service level: slo_attainment = 1 - (error_budget_consumed / error_budget_total)
    return [
        ServiceReliability.from_budget("neo4j", "Data Platform", consumed=20, total=100, weight=2),  # 80
        ServiceReliability.from_budget("ingest", "Data Platform", consumed=50, total=100, weight=1),  # 50
        ServiceReliability.from_budget("gateway", "API Gateway", consumed=10, total=100),  # 90
        ServiceReliability.from_budget("auth", "API Gateway", consumed=30, total=100),  # 70
        ServiceReliability.from_budget("web", "Frontend", consumed=0, total=100),  # 100
    ]


def test_acme_reliability_through_the_seeds_cascade():
    h = health(ACME, _acme_services())
    rel = h.composite.dimensions[0]
    # domain = weighted_avg(service_slo_attainments):
    #   Data Platform = (2 * 80 + 1 * 50) / 3 = 70; API Gateway = (90 + 70) / 2 = 80; Frontend = 100
    assert {d.id: d.score for d in rel.inputs} == pytest.approx(
        {"Data Platform": 70.0, "API Gateway": 80.0, "Frontend": 100.0}
    )
    # company = avg(domain_reliability_scores) = (70 + 80 + 100) / 3 = 83.33
    assert rel.method == "service_cascade" and rel.score == pytest.approx(250 / 3)
    # composite = 0.25 * 83.33 + 22.6 + 13 + 9.9 + 9.45 = 20.83 + 54.95 = 75.78 -> Attention
    assert h.composite.score == pytest.approx(0.25 * 250 / 3 + 54.95)
    assert h.composite.band is Band.ATTENTION


def test_acme_with_gross_margin_missing_reweights_financials_over_the_known_75_percent():
    h = health(ACME | {"gross_margin": None})
    fin = h.composite.dimensions[3]
    # (0.30 * 60 + 0.25 * 60 + 0.20 * 60) / (0.30 + 0.25 + 0.20) = 45 / 0.75 = 60
    assert fin.score == pytest.approx(60.0) and fin.known_weight == pytest.approx(0.75)
    assert fin.reason == "re-weighted over the known 75% of the weight; missing: gross_margin"
    assert fin.partial == "partial: 75 % measured, missing gross_margin"
    # composite: 15 + 22.6 + 13 + 0.15 * 60 + 9.45 = 69.05, measured on 1 - 0.15 * 0.25 = 96.25 %
    assert h.composite.score == pytest.approx(69.05)
    assert h.composite.known_weight == pytest.approx(0.9625)


def test_acme_with_security_mostly_unknown_keeps_a_composite_over_the_known_75_percent():
    # Given only vuln SLA and compliance known (0.25 + 0.10 = 35% of security's weight < 50%)
    h = health(
        ACME | {"critical_cve_age": None, "abac_policy_coverage": None, "secret_scan_violations": None}
    )
    sec = h.composite.dimensions[1]
    assert sec.score is None and sec.known_weight == pytest.approx(0.35)
    assert sec.reason is not None and sec.reason.startswith("only 35% of the weight is known (needs 50%)")
    # Then the composite is re-weighted over the other 75%:
    # (15 + 13 + 9.9 + 9.45) / 0.75 = 47.35 / 0.75 = 63.13, measured on 75 % (partial)
    assert h.composite.score == pytest.approx(47.35 / 0.75)
    assert h.composite.missing == ["security"]
    assert h.composite.known_weight == pytest.approx(0.75) and h.composite.partial.startswith("partial: 75 %")
