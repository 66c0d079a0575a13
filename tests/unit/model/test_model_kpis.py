"""The KPI dictionary: 28 primary KPIs of the seed, shipped as a validated, versioned pack."""

from __future__ import annotations

import pytest
import yaml
from companyos.domain.kpis import DIMENSIONS, Direction, UnknownKpiError, load_dictionary, parse_dictionary
from pydantic import ValidationError

SEED_KPIS = {
    "reliability": [
        "slo_attainment",
        "error_budget_burn_rate",
        "change_failure_rate",
        "mttr",
        "p1_incident_count",
    ],
    "security": [
        "vuln_sla_compliance",
        "critical_cve_age",
        "abac_policy_coverage",
        "failed_auth_attempts",
        "secret_scan_violations",
        "compliance_score",
    ],
    "product": [
        "active_tenants_dau",
        "weekly_active_users",
        "feature_adoption_rate",
        "api_call_volume",
        "session_duration",
        "nps_score",
    ],
    "financials": [
        "net_revenue_retention",
        "gross_margin",
        "infra_cost_per_active_unit",
        "cac_payback_period",
        "arr_growth_rate",
    ],
    "efficiency": [
        "deployment_frequency",
        "lead_time_for_changes",
        "build_success_rate",
        "test_coverage",
        "infra_utilization",
        "toil_ratio",
    ],
}


def test_the_dictionary_has_exactly_the_28_seed_kpis_5_6_6_5_6():
    # Given the shipped pack / When it is loaded
    d = load_dictionary()
    # Then it is the versioned health-model pack with the seed's KPIs per dimension
    assert (d.pack, d.version) == ("health-model", "2.0.0")
    assert len(d.all()) == 28
    for dim in DIMENSIONS:
        assert [k.id for k in d.by_dimension(dim)] == SEED_KPIS[dim]


def test_load_dictionary_is_cached():
    assert load_dictionary() is load_dictionary()


@pytest.mark.parametrize(
    ("kpi_id", "direction", "target", "critical"),
    [
        ("slo_attainment", Direction.HIGHER, 99.9, 99.5),
        ("error_budget_burn_rate", Direction.LOWER, 1.0, 6.0),
        ("mttr", Direction.LOWER, 30.0, 60.0),
        ("critical_cve_age", Direction.LOWER, 0.0, 7.0),
        ("nps_score", Direction.HIGHER, 50.0, 20.0),
        ("net_revenue_retention", Direction.HIGHER, 110.0, 90.0),
        ("deployment_frequency", Direction.HIGHER, 10.0, 1.0),
        ("toil_ratio", Direction.LOWER, 20.0, 40.0),
    ],
)
def test_targets_and_critical_thresholds_are_the_seeds(kpi_id, direction, target, critical):
    k = load_dictionary().get(kpi_id)
    assert (k.direction, k.target, k.critical) == (direction, target, critical)


def test_growing_and_declining_kpis_are_trend_kpis_scored_on_the_change():
    d = load_dictionary()
    trend = {k.id for k in d.all() if k.trend}
    assert trend == {
        "active_tenants_dau",
        "weekly_active_users",
        "api_call_volume",
        "infra_cost_per_active_unit",
    }
    # "Growing MoM / Declining": growth is the target, zero change is the critical edge
    dau = d.get("active_tenants_dau")
    assert dau.target > 0 and dau.critical == 0 and dau.unit == "percent_change"
    # "Decreasing / Increasing >10%" on infra cost per active unit
    cost = d.get("infra_cost_per_active_unit")
    assert (cost.direction, cost.target, cost.critical) == (Direction.LOWER, 0.0, 10.0)


def test_every_kpi_carries_source_refresh_and_retention_class():
    d = load_dictionary()
    for k in d.all():
        assert k.name and k.definition and k.source
        assert k.refresh in d.refresh_classes
        assert k.retention_class in d.retention_classes
        assert d.stale_after_s(k.id) > 0


@pytest.mark.parametrize(
    ("kpi_id", "value", "shown"),
    [
        ("deployment_frequency", 1.4, "1.4/day"),
        ("slo_attainment", 99.92, "99.92%"),
        ("gross_margin", 70.0, "70%"),
        ("mttr", 18.0, "18 min"),
        ("error_budget_burn_rate", 2.5, "2.5x"),
        ("active_tenants_dau", 3.2, "+3.2% MoM"),
        ("infra_cost_per_active_unit", -4.0, "-4.0% MoM"),
        ("nps_score", 42.0, "+42"),
        ("critical_cve_age", None, "—"),
    ],
)
def test_values_are_formatted_in_the_kpis_unit(kpi_id, value, shown):
    assert load_dictionary().get(kpi_id).format_value(value) == shown


def test_an_unknown_kpi_id_raises_unknown_kpi():
    with pytest.raises(UnknownKpiError):
        load_dictionary().get("vibes")


def _pack_with(mutate) -> str:
    from importlib import resources

    raw = yaml.safe_load(
        resources.files("companyos.domain").joinpath("packs", "health-model-v1.yaml").read_text()
    )
    mutate(raw)
    return yaml.safe_dump(raw)


def test_a_pack_whose_critical_is_better_than_its_target_is_rejected():
    def swap(raw):
        raw["kpis"][0]["target"], raw["kpis"][0]["critical"] = 99.5, 99.9

    with pytest.raises(ValidationError, match="at least as good as critical"):
        parse_dictionary(_pack_with(swap))


def test_a_pack_with_input_weights_not_summing_to_one_is_rejected():
    def skew(raw):
        raw["dimensions"]["product"]["inputs"][0]["weight"] = 0.9

    with pytest.raises(ValidationError, match="sum to"):
        parse_dictionary(_pack_with(skew))


def test_a_pack_whose_inputs_name_an_unknown_kpi_is_rejected():
    def typo(raw):
        raw["dimensions"]["product"]["inputs"][0]["kpis"] = ["active_tenant_dau"]

    with pytest.raises(ValidationError, match="unknown KPIs"):
        parse_dictionary(_pack_with(typo))


def test_a_pack_with_duplicate_ids_is_rejected():
    def dup(raw):
        raw["kpis"].append(dict(raw["kpis"][0]))

    with pytest.raises(ValidationError, match="duplicate"):
        parse_dictionary(_pack_with(dup))


def test_a_kpi_whose_target_equals_critical_needs_a_decay_span():
    def drop_span(raw):
        secrets = next(k for k in raw["kpis"] if k["id"] == "secret_scan_violations")
        del secrets["decay_span"]

    with pytest.raises(ValidationError, match="decay_span is required"):
        parse_dictionary(_pack_with(drop_span))


def test_only_trend_kpis_have_percent_change_units():
    def untrend(raw):
        next(k for k in raw["kpis"] if k["id"] == "api_call_volume")["trend"] = False

    with pytest.raises(ValidationError, match="trend KPIs"):
        parse_dictionary(_pack_with(untrend))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw["kpis"][0].update(refresh="weekly"), "unknown refresh or retention class"),
        (lambda raw: raw["dimensions"].pop("efficiency"), "exactly the five dimensions"),
        (lambda raw: raw["dimensions"]["efficiency"].update(weight=0.5), "dimension weights must sum to 1"),
    ],
)
def test_inconsistent_packs_are_rejected(mutate, message):
    with pytest.raises(ValidationError, match=message):
        parse_dictionary(_pack_with(mutate))
