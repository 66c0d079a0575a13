"""Endpoint metrics and dependencies in a real browser on the seeded demo: the SLO Attainment deep
dive's endpoint table and the service map's edges show the API's numbers (the rows the
slo_attainment run delivered from the demo's fake Prometheus), with the run as evidence; an
incident links to its traces and logs through the tenant's templates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cockpit_browser import login

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).parent / "screenshots"  # test artefacts, git-ignored


def api(local: Any, username: str, path: str) -> dict[str, Any]:
    token = local.client.login(username)
    resp = local.client.request("GET", path, token=token)
    assert resp.status == 200, resp.body
    return dict(resp.body)


def num(v: float, digits: int = 2) -> str:
    """What the page prints for an API number (en-US, at most `digits` decimals)."""
    text = f"{v:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cells(row: Any) -> dict[str, str]:
    return {c.get_attribute("data-field"): c.inner_text().strip() for c in row.locator("[data-field]").all()}


def test_the_deep_dive_endpoint_table_shows_the_runs_numbers(local, demo, page):
    body = api(local, "cto@northwind.demo", "/api/drill/kpi/slo_attainment?tenant=northwind&period=28d")
    items = body["endpoints"]["items"]
    assert items and body["endpoints"]["available"]
    login(page, local.url, "cto@northwind.demo")
    page.goto(local.url + "/#/northwind/cto/drill/kpi/slo_attainment?period=28d")
    table = page.locator('[data-testid="endpoints-table"]')
    table.wait_for()
    rows = table.locator('[data-testid="endpoint-row"]')
    assert rows.count() == len(items)
    for item in items[:6]:
        row = table.locator(f'[data-testid="endpoint-row"][data-item-id="{item["id"]}"]')
        got = cells(row)
        assert got["requests"] == num(item["requests"])
        assert got["rate"] == f"{num(item['request_rate_per_s'])}/s"
        assert got["error_ratio"] == f"{100 * item['error_ratio']:.3f}%"
        assert (
            got["p95"] == f"{1000 * item['p95_s']:.1f} ms" and got["p99"] == f"{1000 * item['p99_s']:.1f} ms"
        )
        assert (
            row.locator('[data-testid="evidence-link"]').get_attribute("data-run-id")
            == item["evidence"]["run_id"]
        )
        assert (
            row.locator('[data-testid="endpoint-traces"]').get_attribute("href")
            == (item["links"]["traces"]["items"][0]["href"])
        )
    assert "Not built yet" not in page.locator('[data-testid="drill-endpoints"]').inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "deep-dive-endpoints.png"), full_page=True)


def test_the_service_map_shows_the_service_graph_edges(local, demo, page):
    body = api(local, "ops@northwind.demo", "/api/drill/services?tenant=northwind&period=28d")
    edges = body["edges"]["items"]
    assert edges and body["edges"]["available"]
    login(page, local.url, "ops@northwind.demo")
    page.goto(local.url + "/#/northwind/ops/drill/services?period=28d")
    table = page.locator('[data-testid="edges-table"]')
    table.wait_for()
    assert table.locator('[data-testid="edge-row"]').count() == len(edges)
    for e in edges:
        row = table.locator(f'[data-testid="edge-row"][data-item-id="{e["id"]}"]')
        got = cells(row)
        assert got["requests"] == num(e["requests"]) and got["failed"] == num(e["failed"])
        assert got["rate"] == f"{num(e['request_rate_per_s'])}/s"
        assert got["error_ratio"] == f"{100 * e['error_ratio']:.3f}%"
        assert re.search(rf"{re.escape(e['client'])}\s*→\s*{re.escape(e['server'])}", row.inner_text())
    # a catalog service at either end drills into it
    gateway = table.locator(
        '[data-testid="edge-row"][data-item-id="gateway->api"] [data-testid="drill-link"]'
    )
    assert gateway.count() == 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "service-map-edges.png"), full_page=True)
    gateway.first.click()
    page.locator('[data-testid="drill-endpoints"] [data-testid="endpoints-table"]').wait_for()
    shown = page.locator('[data-testid="drill-endpoints"] [data-testid="endpoint-row"]')
    assert {r.get_attribute("data-service") for r in shown.all()} == {"gateway"}


def test_an_incident_links_to_its_traces_and_logs(local, demo, page):
    incidents = api(local, "ops@northwind.demo", "/api/drill/incidents?tenant=northwind&period=28d")
    first = incidents["items"][0]
    one = api(local, "ops@northwind.demo", f"/api/drill/incidents/{first['id']}?tenant=northwind")
    login(page, local.url, "ops@northwind.demo")
    page.goto(local.url + f"/#/northwind/ops/drill/incident/{first['id']}?period=28d")
    trace = page.locator('[data-testid="drill-traces"] [data-testid="trace-link"]')
    trace.wait_for()
    assert trace.get_attribute("href") == one["traces"]["items"][0]["href"]
    assert trace.get_attribute("rel") == "noopener noreferrer"
    log = page.locator('[data-testid="drill-logs"] [data-testid="log-link"]')
    assert log.get_attribute("href") == one["logs"]["items"][0]["href"]
    page.screenshot(path=str(SHOTS / "incident-deep-links.png"), full_page=True)
