"""The demo's CI coverage uploads reach the runs: both tenants' test_coverage is delivered from their
repositories' newest reports, with per-service rows, and the CTO page's "Architecture health" tile
shows it."""

from __future__ import annotations

import pytest
from companyos.adapters.repos import RunLog
from companyos.runs.sourcing import latest_delivered

from infra.local.demo_tenants import DEMO


@pytest.mark.parametrize("demo_tenant", DEMO, ids=lambda d: d.tenant.id)
def test_test_coverage_is_delivered_per_service_and_on_the_cto_page(local, demo, demo_tenant):
    tenant_id = demo_tenant.tenant.id
    got = latest_delivered(tenant_id, "test_coverage")
    assert got is not None and got["values"]["28d"] is not None, got
    assert 40 < got["values"]["28d"] < 95
    (rows,) = [r.data for r in RunLog(tenant_id).rows(got["run_id"]) if r.record == "rows"]
    entry = rows["periods"]["28d"]["coverage"]
    services = {service for _, service, _ in demo_tenant.repos}
    assert {i["id"] for i in entry["items"]} == services
    assert 100 * entry["lines_covered"] / entry["lines_valid"] == pytest.approx(got["values"]["28d"])
    assert all(i["commit"] and i["report_at"] and i["format"] for i in entry["items"])

    login = local.client.login(next(u for u, role, _ in demo_tenant.users if role == "cto"))
    dash = local.client.request("GET", f"/api/dashboards/cto?tenant={tenant_id}", token=login).body
    (panel,) = [p for p in dash["panels"] if p["id"] == "architecture"]
    tile = next(i for i in panel["items"] if i["kpi_id"] == "test_coverage")
    assert tile["value"] == pytest.approx(got["values"]["7d"]) and tile["display"].endswith("%")
