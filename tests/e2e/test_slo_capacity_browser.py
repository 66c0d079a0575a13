"""The Prometheus-fed panels in a real browser on the seeded demo: the CTO's SLO table and burn bars
headed by their KPI runs (evidence drawer), the per-service SLO drill-down, and the Ops capacity bars
— every number as the API serves it, computed from the demo's (fake) Prometheus pull."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_cockpit_browser import login

pytestmark = pytest.mark.e2e


def dashboard(local: Any, username: str, persona: str) -> dict[str, Any]:
    token = local.client.login(username)
    body = local.client.request(
        "GET", f"/api/dashboards/{persona}?tenant=northwind&period=7d", token=token
    ).body
    return {p["id"]: p for p in body["panels"]}


def test_cto_sees_slo_and_burn_headed_by_their_runs_and_drills_into_a_service(local, demo, page):
    panels = dashboard(local, "cto@northwind.demo", "cto")
    head, burn_head = panels["slo"]["summary"], panels["burn"]["summary"]
    assert head["kpi_id"] == "slo_attainment" and head["value"] is not None and head["evidence"]["run_id"]
    assert burn_head["value"] is not None and burn_head["evidence"]["run_id"]

    login(page, local.url, "cto@northwind.demo")
    page.goto(local.url + "/#/northwind/cto?period=7d")
    slo = page.locator('[data-testid="panel-slo"]')
    summary = slo.locator('[data-testid="panel-summary"]')
    summary.wait_for()
    assert head["display"] in summary.inner_text() and summary.get_attribute("data-status") == head["status"]
    rows = slo.locator('[data-testid="panel-item"]')
    assert rows.count() == len(panels["slo"]["items"]) > 0
    assert "prometheus.slo_window" in rows.first.locator('[data-testid="evidence-ref"]').inner_text()
    burn = page.locator('[data-testid="panel-burn"]')
    assert burn_head["display"] in burn.locator('[data-testid="panel-summary"]').inner_text()

    summary.locator('[data-testid="evidence-link"]').click()
    drawer = page.locator('[data-testid="evidence-drawer"]')
    drawer.wait_for(state="visible")
    drawer.locator('[data-testid="evidence-run-id"]').wait_for()
    assert head["evidence"]["run_id"] in drawer.locator('[data-testid="evidence-run-id"]').inner_text()
    assert "prometheus.slo_window" in drawer.locator('[data-testid="evidence-sources"]').inner_text()
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")

    first = panels["slo"]["items"][0]
    slo.locator(
        f'[data-testid="panel-item"][data-item-id="{first["id"]}"] [data-testid="drill-link"]'
    ).click()
    block = page.locator('[data-testid="drill-slo"]')
    block.wait_for()
    text = block.locator('[data-testid="drill-slo-summary"]').inner_text()
    assert first["cells"]["actual"] in text and "requests good" in text
    windows = block.locator('[data-testid="drill-slo-windows"] [data-testid="drill-row"]')
    assert windows.count() == 7  # 5m, 30m, 1h, 2h (the workbook's 1d/2h ticket rule), 6h, 1d, 3d
    assert "x" in block.locator('[data-testid="drill-slo-windows"] [data-item-id="1h"]').inner_text()
    assert "not pulled" in block.locator('[data-testid="drill-slo-alerts"]').inner_text()


def test_ops_sees_capacity_per_service_and_the_utilisation_run(local, demo, page):
    panels = dashboard(local, "ops@northwind.demo", "ops")
    cap = panels["capacity"]
    assert cap["kind"] == "bars" and cap["items"] and cap["summary"]["kpi_id"] == "infra_utilization"
    assert cap["summary"]["value"] is not None and cap["summary"]["evidence"]["run_id"]
    tiles = {t["id"]: t for t in panels["operations"]["items"]}
    assert (
        tiles["infra_utilization"]["value"] is not None
        and tiles["error_budget_burn_rate"]["value"] is not None
    )

    login(page, local.url, "ops@northwind.demo")
    page.goto(local.url + "/#/northwind/ops?period=7d")
    panel = page.locator('[data-testid="panel-capacity"]')
    panel.locator('[data-testid="panel-summary"]').wait_for()
    assert cap["summary"]["display"] in panel.locator('[data-testid="panel-summary"]').inner_text()
    bars = panel.locator('[data-testid="panel-item"]')
    assert bars.count() == len(cap["items"])
    top = cap["items"][0]
    bar = panel.locator(f'[data-testid="panel-item"][data-item-id="{top["id"]}"]')
    assert bar.locator('[data-testid="item-value"]').inner_text().strip() == top["display"]
    assert bar.get_attribute("data-status") == top["status"]
    assert "prometheus.prom_sample" in bar.locator('[data-testid="evidence-ref"]').inner_text()
    tile = page.locator(
        '[data-testid="panel-operations"] [data-testid="kpi-tile"][data-kpi-id="infra_utilization"]'
    )
    assert (
        tile.locator('[data-testid="kpi-value"]').inner_text().strip()
        == tiles["infra_utilization"]["display"]
    )
