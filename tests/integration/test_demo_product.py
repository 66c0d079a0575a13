"""The demo's product telemetry reaches the cockpit: the Head of Product's adoption tiles, feature
table (including the LaunchDarkly-only `new-routing-engine` row), engagement funnel and NPS
distribution, the CEO's active-tenants headline and the CISO's ABAC coverage show computed values
with their evidence — read from the snapshot in at most 2 DynamoDB requests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Running
from tests.integration.test_dashboards_personas import dynamodb_calls, get

PRODUCT_TILES = (
    "active_tenants_dau",
    "weekly_active_users",
    "session_duration",
    "feature_adoption_rate",
    "api_call_volume",
    "nps_score",
)


def panels(local: Running, persona: str, user: str, period: str = "7d") -> dict[str, Any]:
    with dynamodb_calls("northwind") as calls:
        body = get(local, f"/api/dashboards/{persona}?tenant=northwind&period={period}", user)
    assert len(calls) <= 2, calls
    return {p["id"]: p for p in body["panels"]}


def tiles(panel: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in panel["items"]}


@pytest.mark.parametrize("period", ["7d", "28d"])
def test_product_adoption_tiles_are_computed_with_run_evidence(local, demo, period):
    p = panels(local, "product", "product@northwind.demo", period)
    adoption = tiles(p["adoption"])
    for kpi_id in PRODUCT_TILES:
        tile = adoption[kpi_id]
        assert tile["value"] is not None and tile["status"] != "unknown", (kpi_id, tile.get("reason"))
        assert tile["evidence"]["run_id"] and tile["evidence"]["sources"], kpi_id
    assert adoption["active_tenants_dau"]["display"].endswith("% MoM")
    assert p["product_score"]["kind"] == "score"


def test_long_windows_say_why_a_trend_is_unknown_or_read_the_rollup(local, demo):
    adoption = tiles(panels(local, "product", "product@northwind.demo", "90d")["adoption"])
    # 84 days of analytics cover the 90 days and over half of the 90 days a month earlier: product_daily
    dau = adoption["active_tenants_dau"]
    assert dau["value"] is not None
    assert any(
        s["object"] == "analytics.product_daily rollup" and s["count"] > 60
        for s in dau["evidence"]["sources"]
    )
    # Prometheus request counts go back 63 days: the 90-day API trend is Unknown with the reason
    api = adoption["api_call_volume"]
    assert api["value"] is None and "request counts covers" in api["reason"]


def test_features_funnel_and_nps_show_values_with_evidence(local, demo):
    p = panels(local, "product", "product@northwind.demo")
    features = {i["id"]: i for i in p["features"]["items"]}
    flag = features["new-routing-engine"]
    assert flag["value"] is not None and flag["basis"] == "flag" and flag["cells"]["adoption"].endswith("%")
    assert {s["object"] for s in flag["evidence"]["sources"]} == {"feature_flags.flag_evaluation"}
    used = [i for i in features.values() if i["basis"] == "usage"]
    assert used and all(i["value"] is not None and i["evidence"]["sources"] for i in used)
    funnel = [i["value"] for i in p["funnel"]["items"]]
    assert funnel[0] > 0 and funnel == sorted(funnel, reverse=True)
    assert all(i["evidence"]["sources"][0]["count"] > 0 for i in p["funnel"]["items"])
    nps = p["nps"]["items"]
    assert sum(i["value"] for i in nps) > 0 and all(i["evidence"] for i in nps)


def test_ceo_headline_and_ciso_abac_coverage_are_computed(local, demo):
    ceo = panels(local, "ceo", "ceo@northwind.demo")
    found = [
        t
        for p in ceo.values()
        for t in p.get("items", [])
        if (t.get("kpi_id") or t.get("id")) == "active_tenants_dau"
    ]
    assert found and all(t["value"] is not None and t["evidence"]["run_id"] for t in found)
    ciso = panels(local, "ciso", "ciso@northwind.demo")
    abac = [
        t
        for p in ciso.values()
        for t in p.get("items", [])
        if (t.get("kpi_id") or t.get("id")) == "abac_policy_coverage"
    ]
    assert abac and abac[0]["value"] == 100.0 and abac[0]["evidence"]["run_id"]
