"""Dimension scores, the composite and the explainable breakdown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from companyos.domain.kpis import DIMENSIONS, load_dictionary
from companyos.domain.scoring import (
    SECURITY_TERMS,
    Band,
    DimensionResult,
    Part,
    ServiceReliability,
    combine,
    composite,
    dimension_score,
    health,
    reliability_cascade,
    security_score,
)

D = load_dictionary()


def _at_ideal() -> dict[str, float]:
    """Every KPI at its ideal value (score 100); security's raw percentages at 100 % too."""
    return {k.id: k.ideal_value for k in D.all()}


# ----------------------------------------------------------------------------- security


def test_security_formula_verbatim_with_known_inputs():
    # Given a critical CVE open 2 days, 90% vuln SLA, 97% ABAC, no secrets, 95% compliance
    r = security_score(2, 90, 97, 0, 95)
    # Then (100-20)*.30 + 90*.25 + 97*.20 + (100-0)*.15 + 95*.10 = 90.4
    assert r.score == pytest.approx(90.4)
    assert r.band is Band.EXCELLENT and r.method == "security_formula"


def test_security_formula_caps_cve_age_and_secrets_terms():
    # 12 days x10 caps at 100 -> term 0; 3 secrets x50 caps at 100 -> term 0
    r = security_score(12, 80, 90, 3, 85)
    assert r.score == pytest.approx(0 + 80 * 0.25 + 90 * 0.20 + 0 + 85 * 0.10)
    assert r.band is Band.WARNING


def test_security_formula_uses_raw_percentages_not_normalised_scores():
    # 90% vuln SLA is halfway between critical (85) and target (95): its KPI score is
    # 40 + 40 * 0.5 = 60 (Attention: it misses its target), but the formula uses the raw 90
    r = security_score(0, 90, 100, 0, 100)
    assert r.score == pytest.approx(30 + 22.5 + 20 + 15 + 10)
    vuln = next(i for i in r.inputs if i.id == "vuln_sla_compliance")
    assert (vuln.value, vuln.score, vuln.kpis[0].score) == (90, 90, pytest.approx(60))


def test_security_weights_in_code_match_the_pack():
    pack = {i.id: i.weight for i in D.dimensions["security"].inputs}
    assert pack == {kpi: w for kpi, w, _ in SECURITY_TERMS}


def test_security_with_an_unknown_term_is_reweighted_and_says_what_is_missing():
    r = security_score(0, 90, None, 0, 100)
    # known weight 0.80: (30 + 22.5 + 15 + 10) / 0.80
    assert r.score == pytest.approx(77.5 / 0.80)
    assert r.missing == ["abac_policy_coverage"]
    assert "abac_policy_coverage" in r.reason and r.known_weight == pytest.approx(0.8)


def test_security_with_less_than_half_its_weight_known_is_unknown():
    r = security_score(None, 90, None, None, 95)
    assert r.score is None and r.band is Band.UNKNOWN
    assert "needs 50%" in r.reason


# ----------------------------------------------------------------------------- weighted inputs


def test_product_is_the_seeds_weighted_sum_of_its_inputs():
    # Given feature adoption halfway between critical 30 and target 60 (score 40 + 40 * 0.5 = 60)
    # and everything else at its ideal (100)
    values = _at_ideal() | {"feature_adoption_rate": 45.0}
    r = dimension_score("product", values)
    # Then 0.30*100 + 0.25*60 + 0.25*100 + 0.20*100
    assert r.score == pytest.approx(90.0)
    assert [(i.id, i.weight) for i in r.inputs] == [
        ("tenant_growth", 0.30),
        ("feature_adoption", 0.25),
        ("engagement", 0.25),
        ("nps_normalized", 0.20),
    ]
    assert sum(i.contribution for i in r.inputs) == pytest.approx(r.score)


def test_an_input_fed_by_several_kpis_is_the_mean_of_their_scores():
    values = _at_ideal() | {"session_duration": 5.0}  # at critical: 40
    engagement = next(i for i in dimension_score("product", values).inputs if i.id == "engagement")
    assert engagement.score == pytest.approx((100 + 40 + 100) / 3)
    assert [k.kpi_id for k in engagement.kpis] == [
        "weekly_active_users",
        "session_duration",
        "api_call_volume",
    ]


def test_every_input_kpi_is_a_kpi_of_the_dictionary_and_every_kpi_is_explained():
    fed = {k for dim in D.dimensions.values() for i in dim.inputs for k in i.kpis}
    # all but failed_auth_attempts (shown, but not in the seed's security formula) feed a score
    assert set(D.ids()) - fed == {"failed_auth_attempts"}


def test_unknown_inputs_are_reweighted_when_half_the_weight_is_known():
    values = _at_ideal() | {"active_tenants_dau": None, "nps_score": None}  # 0.30 + 0.20 missing
    r = dimension_score("product", values)
    assert r.score == pytest.approx(100.0)
    assert r.missing == ["tenant_growth", "nps_normalized"] and r.known_weight == pytest.approx(0.5)
    assert "re-weighted" in r.reason
    # a score of 100 measured on half the weight is not Excellent: capped at Attention, and says so
    assert r.band is Band.ATTENTION
    assert r.partial == "partial: 50 % measured, missing tenant_growth, nps_normalized"


def test_a_dimension_with_less_than_half_its_weight_known_is_unknown_with_the_reason():
    values = {"feature_adoption_rate": 10.0}
    r = dimension_score("product", values)
    assert r.score is None and r.band is Band.UNKNOWN
    assert r.reason.startswith("only 25% of the weight is known (needs 50%)")


def test_an_unknown_dimension_name_is_rejected():
    with pytest.raises(ValueError, match="unknown dimension"):
        dimension_score("vibes", {})


# ----------------------------------------------------------------------------- reliability cascade


def test_reliability_cascades_service_to_domain_by_weight_then_averages_domains():
    services = [
        ServiceReliability(service="neo4j", domain="data", weight=3, slo_attainment=0.9),
        ServiceReliability(service="ingest", domain="data", weight=1, slo_attainment=0.5),
        ServiceReliability(service="gateway", domain="api", weight=1, slo_attainment=1.0),
    ]
    r = reliability_cascade(services)
    # data = (3*90 + 1*50) / 4 = 80; api = 100; company = mean = 90
    assert r.score == pytest.approx(90.0) and r.method == "service_cascade"
    data = r.inputs[0]
    assert (data.id, data.score, [c.id for c in data.children]) == ("data", 80.0, ["neo4j", "ingest"])


def test_a_service_attainment_is_the_share_of_error_budget_left():
    assert ServiceReliability.from_budget("a", "d", consumed=25, total=100).score == pytest.approx(75)
    assert ServiceReliability.from_budget("a", "d", consumed=300, total=100).score == 0.0
    assert ServiceReliability.from_budget("a", "d", consumed=1, total=0).score is None
    # 99.95% good against a 99.9% objective leaves half the budget
    assert ServiceReliability.from_counts("a", "d", 9995, 10_000, 0.999).score == pytest.approx(50)


def test_a_named_domain_without_reporting_services_counts_as_unknown():
    services = [ServiceReliability(service="web", domain="frontend", slo_attainment=0.8)]
    r = reliability_cascade(services, domains=["data", "api", "frontend"])
    assert r.score is None and r.missing == ["data", "api"]
    assert r.inputs[0].reason == "domain data has no services reporting"
    r2 = reliability_cascade(services, domains=["frontend", "api"])
    assert r2.score == pytest.approx(80) and r2.missing == ["api"]


def test_a_service_without_slo_data_is_unknown_in_its_domain():
    services = [
        ServiceReliability(service="a", domain="d", weight=1, slo_attainment=None),
        ServiceReliability(service="b", domain="d", weight=1, slo_attainment=0.6),
    ]
    r = reliability_cascade(services)
    assert r.score == pytest.approx(60) and r.inputs[0].missing == ["a"]
    assert r.inputs[0].children[0].reason == "no SLO data"


# ----------------------------------------------------------------------------- composite / health


def test_composite_of_all_100_is_100_and_excellent():
    h = health(_at_ideal())
    assert h.composite.score == pytest.approx(100.0)
    assert h.composite.band is Band.EXCELLENT and h.composite.partial is None
    assert h.composite.weights == {
        "reliability": 0.25,
        "security": 0.25,
        "product": 0.20,
        "financials": 0.15,
        "efficiency": 0.15,
    }


WEIGHTS = (0.25, 0.25, 0.2, 0.15, 0.15)


def _dims(*scores: float | None) -> list[DimensionResult]:
    return [_dim(n, w, s) for n, w, s in zip(DIMENSIONS, WEIGHTS, scores, strict=True)]


def _dim(name: str, weight: float, score: float | None) -> DimensionResult:
    return DimensionResult(
        dimension=name,
        name=name,
        weight=weight,
        method="weighted_inputs",
        score=score,
        band=Band.UNKNOWN,
        known_weight=1.0,
        inputs=[],
        missing=[],
    )


def test_composite_is_the_seeds_weighted_sum_of_dimensions():
    c = composite(_dims(80, 60, 100, 50, 90))
    assert c.score == pytest.approx(80 * 0.25 + 60 * 0.25 + 100 * 0.2 + 50 * 0.15 + 90 * 0.15)
    assert c.band is Band.ATTENTION  # 76


def test_composite_with_unknown_dimensions_reweights_or_is_unknown():
    half = composite(_dims(80, 60, None, None, None))
    assert half.score == pytest.approx(70.0) and half.missing == ["product", "financials", "efficiency"]
    assert half.known_weight == pytest.approx(0.5) and half.partial.startswith("partial: 50 % measured")
    less = composite(_dims(80, None, None, None, None))
    assert less.score is None and less.band is Band.UNKNOWN and not less.band.is_healthy


def test_nothing_known_is_unknown_never_healthy():
    h = health({})
    assert h.composite.score is None and h.composite.band is Band.UNKNOWN
    assert all(k.band is Band.UNKNOWN and k.unknown_reason == "missing" for k in h.kpis)
    assert h.composite.dimensions[0].reason.startswith("nothing known")


def test_health_uses_the_service_cascade_for_reliability_when_services_are_given():
    services = [ServiceReliability(service="gw", domain="api", slo_attainment=0.6)]
    h = health(_at_ideal(), services)
    rel = h.composite.dimensions[0]
    assert (rel.method, rel.score) == ("service_cascade", pytest.approx(60))
    assert h.composite.score == pytest.approx(0.25 * 60 + 0.75 * 100)


def test_stale_values_are_unknown_with_the_reason():
    # Given NPS observed 3 days ago (daily refresh: stale after 48 h) and the rest fresh
    now = datetime(2025, 12, 7, tzinfo=UTC)
    seen = {k: now - timedelta(minutes=5) for k in D.ids()} | {"nps_score": now - timedelta(days=3)}
    h = health(_at_ideal(), observed_at=seen, as_of=now)
    nps = next(k for k in h.kpis if k.kpi_id == "nps_score")
    assert nps.score is None and nps.unknown_reason.startswith("stale")
    product = h.composite.dimensions[2]
    assert product.missing == ["nps_normalized"] and "stale" in product.reason


def test_not_finite_values_are_unknown_and_extra_ids_are_reported_as_ignored():
    h = health(_at_ideal() | {"gross_margin": float("nan"), "mood": 3.0})
    gm = next(k for k in h.kpis if k.kpi_id == "gross_margin")
    assert gm.unknown_reason == "not a finite number"
    assert h.ignored_kpis == ["mood"]


def test_the_breakdown_is_json_from_composite_to_kpis():
    # Given a mixed picture: "why is this score what it is?"
    values = _at_ideal() | {"mttr": 45.0, "critical_cve_age": 3.0, "gross_margin": None}
    h = health(values)
    doc = json.loads(json.dumps(h.to_dict()))
    # Then composite -> dimensions -> inputs -> KPIs, with weights, scores and what is missing
    assert doc["model_version"] == D.version
    rel = doc["composite"]["dimensions"][0]
    mttr = next(i for i in rel["inputs"] if i["id"] == "mttr")
    # MTTR 45 min: halfway between critical 60 and target 30 → 40 + 40 * 0.5 = 60
    expected = {"kpi_id": "mttr", "value": 45.0, "display": "45 min", "score": 60.0}
    assert {k: mttr["kpis"][0][k] for k in expected} == expected
    assert rel["score"] == pytest.approx((4 * 100 + 60) / 5)
    fin = doc["composite"]["dimensions"][3]
    assert fin["missing"] == ["gross_margin"] and fin["inputs"][1]["kpis"][0]["unknown_reason"] == "missing"
    assert len(doc["kpis"]) == 28


def test_combine_of_nothing_is_unknown():
    assert combine([], 0.5).score is None
    assert combine([Part("a", 1.0, 50.0)], 0.5).score == 50.0


def test_a_partial_dimension_lowers_the_composites_coverage_and_caps_its_band():
    # Given every KPI at its ideal but financials measured on NRR (0.30) and growth (0.20) only
    values = _at_ideal() | {
        "gross_margin": None,
        "infra_cost_per_active_unit": None,
        "cac_payback_period": None,
    }
    h = health(values)
    fin = h.composite.dimensions[3]
    # Then financials scores 100 on half its weight: shown, but at most Attention, and partial
    assert (fin.score, fin.known_weight, fin.band) == (pytest.approx(100), pytest.approx(0.5), Band.ATTENTION)
    assert fin.partial == "partial: 50 % measured, missing gross_margin, cost_efficiency"
    # And the composite's coverage is the real measured share: 1 - 0.15 * 0.5 = 0.925 (not 100 %)
    assert h.composite.known_weight == pytest.approx(0.925)
    assert h.composite.band is Band.EXCELLENT  # 92.5 % measured is full enough (>= 80 %)


def test_a_composite_measured_on_less_than_80_percent_is_at_most_attention():
    # reliability (0.25) known in full, security (0.25) and product (0.20) half, the rest unknown:
    # coverage 0.25 + 0.125 + 0.10 = 0.475 → Unknown; with efficiency known too: 0.625 → capped
    def dim(name, weight, score, cov):
        return _dim(name, weight, score).model_copy(update={"known_weight": cov})

    base = [dim("reliability", 0.25, 95, 1.0), dim("security", 0.25, 95, 0.5), dim("product", 0.2, 95, 0.5)]
    low = composite([*base, dim("financials", 0.15, None, 0.0), dim("efficiency", 0.15, None, 0.0)])
    assert low.score is None and low.band is Band.UNKNOWN
    mid = composite([*base, dim("financials", 0.15, None, 0.0), dim("efficiency", 0.15, 95, 1.0)])
    assert mid.score == pytest.approx(95) and mid.known_weight == pytest.approx(0.625)
    assert mid.band is Band.ATTENTION and mid.partial.startswith("partial: 62 % measured, missing financials")
