"""The cockpit in a real browser against the embedded stack seeded with the demo tenants."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def login(page, url: str, username: str) -> None:
    page.goto(url + "/")
    page.evaluate(
        "() => sessionStorage.clear()"
    )  # sign the previous user out (auth.js keeps the token there)
    page.goto(url + "/")
    page.locator(f'[data-testid="login-user"][data-username="{username}"]').click()
    page.locator('[data-testid="kpi-tile"]').first.wait_for(timeout=15000)


def api_tile(local, username: str, tenant: str, persona: str, kpi_id: str) -> dict:
    token = local.client.login(username)
    dash = local.client.request("GET", f"/api/dashboards/{persona}?tenant={tenant}", token=token).body
    return next(i for p in dash["panels"] for i in p["items"] if i["kpi_id"] == kpi_id)


def test_cto_logs_in_and_sees_the_delivered_deployment_frequency_with_evidence(local, demo, page):
    expected = api_tile(local, "cto@northwind.demo", "northwind", "cto", "deployment_frequency")
    assert expected["value"] is not None and expected["evidence"]["run_id"]

    login(page, local.url, "cto@northwind.demo")

    assert (
        page.locator('[data-testid="persona-switcher"] [aria-current="page"]').inner_text().strip() == "CTO"
    )
    assert "Northwind Ops" in page.locator('[data-testid="tenant-chip"]').inner_text()
    tile = page.locator('[data-testid="kpi-tile"][data-kpi-id="deployment_frequency"]')
    assert tile.locator('[data-testid="kpi-value"]').inner_text().strip() == expected["display"]
    assert tile.get_attribute("data-status") == expected["status"]

    tile.locator('[data-testid="evidence-link"]').click()
    drawer = page.locator('[data-testid="evidence-drawer"]')
    drawer.wait_for(state="visible")
    run_id = drawer.locator('[data-testid="evidence-run-id"]')
    run_id.wait_for()
    assert expected["evidence"]["run_id"] in run_id.inner_text()
    assert "github.deployment_status" in drawer.locator('[data-testid="evidence-sources"]').inner_text()
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")


def test_unknown_is_shown_as_unknown_with_its_reason_never_green(local, demo, page):
    """Both demo tenants have a value for every KPI (#16): a tenant that has sent nothing yet shows
    each KPI Unknown with the API's reason, never green."""
    from companyos.adapters.repos import Catalog
    from companyos.domain import clock
    from companyos.views import snapshots

    from tests.integration.conftest import make_tenant

    login(page, local.url, "ciso@northwind.demo")
    page.goto(f"{local.url}/#/northwind/ciso")
    # compliance is measured from the demo's Prowler / Security Hub reports: a value and its band
    compliance = page.locator('[data-testid="kpi-tile"][data-kpi-id="compliance_score"]')
    compliance.wait_for(timeout=15000)
    shown = api_tile(local, "ciso@northwind.demo", "northwind", "ciso", "compliance_score")
    assert compliance.locator('[data-testid="kpi-value"]').inner_text().strip() == shown["display"]
    assert compliance.get_attribute("data-status") == shown["status"] != "unknown"
    login(page, local.url, "cto@northwind.demo")
    # test coverage is measured from the demo's CI coverage uploads: a value, never green without one
    coverage = page.locator('[data-testid="kpi-tile"][data-kpi-id="test_coverage"]')
    assert coverage.locator('[data-testid="kpi-value"]').inner_text().strip().endswith("%")
    # with every contracted source ingested the composite is known, and says so in a band
    health = page.locator('[data-testid="health-score"]')
    assert health.get_attribute("data-status") in {"excellent", "healthy", "attention", "warning", "critical"}
    # the SLO table is fed by the Prometheus pull (slo_window good/total) the demo seeds
    slo = page.locator('[data-testid="panel-slo"]')
    slo.wait_for()
    assert "No data yet" not in slo.inner_text()
    make_tenant(local, "quietco", "Quiet Co")
    snapshots.refresh(Catalog().get_tenant("quietco"), clock.now())
    expected = api_tile(local, "cto@quietco.test", "quietco", "cto", "test_coverage")
    assert expected["value"] is None and expected["status"] == "unknown" and expected["reason"]
    login(page, local.url, "cto@quietco.test")
    page.goto(f"{local.url}/#/quietco/cto")
    quiet = page.locator('[data-testid="kpi-tile"][data-kpi-id="test_coverage"]')
    quiet.wait_for(timeout=15000)
    assert quiet.get_attribute("data-status") == "unknown"
    assert quiet.locator('[data-testid="kpi-value"]').inner_text().strip() == "Unknown"
    assert quiet.locator('[data-testid="kpi-reason"]').inner_text() == expected["reason"]


def test_personas_offered_follow_the_role(local, demo, page):
    login(page, local.url, "ops@northwind.demo")
    buttons = page.locator('[data-testid="persona-switcher"] [data-persona]')
    assert sorted(buttons.evaluate_all("els => els.map(e => e.dataset.persona)")) == ["cto", "ops"]


def test_a_forbidden_deep_link_shows_the_servers_refusal(local, demo, page):
    login(page, local.url, "product@northwind.demo")
    page.goto(local.url + "/#/northwind/cto?period=7d")
    page.wait_for_timeout(500)
    alert = page.locator('[data-testid="error-alert"]')
    text = alert.inner_text() if alert.is_visible() else ""
    on_product = page.locator('[data-testid="persona-switcher"] [aria-current="page"]').inner_text().strip()
    assert "persona_forbidden" in text or on_product == "Head of Product"


def test_console_links_follow_the_roles(local, demo, page):
    login(page, local.url, "platform@companyos.demo")
    assert page.locator('[data-testid="rollup-link"]').is_visible()
    assert page.locator('[data-testid="admin-link"]').is_visible()
    page.locator('[data-testid="logout"]').click()
    login(page, local.url, "cto@northwind.demo")
    assert page.locator('[data-testid="rollup-link"]').count() == 0
    assert page.locator('[data-testid="admin-link"]').count() == 0


def test_a_kpi_paused_by_an_admin_shows_its_maintenance_badge_with_reason_and_eta(local, demo, page):
    from tests.integration.test_dashboards_personas import paused

    with paused("northwind", "change_failure_rate", "deploy pipeline migration", "Friday 18:00 UTC"):
        login(page, local.url, "cto@northwind.demo")
        tile = page.locator('[data-testid="kpi-tile"][data-kpi-id="change_failure_rate"]')
        badge = tile.locator('[data-testid="maintenance-badge"]')
        assert badge.inner_text().strip() == "Paused: deploy pipeline migration · ETA Friday 18:00 UTC"
        banner = page.locator('[data-testid="maintenance-banner"]')
        assert "Change Failure Rate" in banner.inner_text() and "Friday 18:00 UTC" in banner.inner_text()
        other = page.locator('[data-testid="kpi-tile"][data-kpi-id="deployment_frequency"]')
        assert other.locator('[data-testid="maintenance-badge"]').count() == 0
    page.reload()
    page.locator('[data-testid="kpi-tile"]').first.wait_for()
    assert page.locator('[data-testid="maintenance-banner"]').count() == 0
