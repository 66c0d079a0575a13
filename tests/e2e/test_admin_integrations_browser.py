"""Admin → Integrations in a real browser (#16): the demo tenant's trace and log deep-link templates
shown with their stores, an http:// template refused with the API's message (nothing saved), a new
template saved and picked up by the incident drill-down's trace link, and a read-only role sees no
form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_admin_browser import sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).parent / "screenshots"  # test artefacts, git-ignored
NEW = (
    "https://eu-west-1.console.aws.amazon.com/xray/home?region=eu-west-1"
    "#/traces?timeRange={{start}}~{{end}}&filter=service(%22{{service}}%22)"
)


def test_admin_sees_edits_and_the_drill_links_with_the_saved_template(
    local: Any, demo: Any, page: Any
) -> None:
    from infra.local.demo_prometheus import DEEP_LINKS

    sign_in(page, local.url, "admin@globex.demo", "#/integrations")
    trace_row = page.locator('[data-testid="integration-row"][data-kind="trace"]')
    trace_row.wait_for()
    assert "AWS X-Ray" in trace_row.inner_text()
    log_row = page.locator('[data-testid="integration-row"][data-kind="log"]')
    assert "CloudWatch Logs Insights" in log_row.inner_text()
    assert (
        log_row.locator('[data-testid="integration-template"]').inner_text()
        == DEEP_LINKS["globex"].log_url_template
    )
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-integrations.png"), full_page=True)

    box = page.locator('[data-testid="trace-template"]')
    box.fill("http://xray.example/traces?service={{service}}")
    page.locator('[data-testid="integrations-save"]').click()
    alert = page.locator('[data-testid="error-alert"]')
    alert.locator("text=https:// URL").wait_for()
    page.screenshot(path=str(SHOTS / "admin-integrations-refused.png"), full_page=True)
    page.reload()
    trace_row.wait_for()
    assert (
        trace_row.locator('[data-testid="integration-template"]').inner_text()
        == DEEP_LINKS["globex"].trace_url_template
    )

    try:
        page.locator('[data-testid="trace-template"]').fill(NEW)
        page.locator('[data-testid="integrations-save"]').click()
        page.locator('[data-testid="status"]:has-text("Deep-link templates saved")').wait_for()
        assert trace_row.locator('[data-testid="integration-template"]').inner_text() == NEW

        token = local.client.login("cto@globex.demo")
        incidents = local.client.request("GET", "/api/drill/incidents?tenant=globex&period=90d", token=token)
        iid = incidents.body["items"][0]["id"]
        one = local.client.request("GET", f"/api/drill/incidents/{iid}?tenant=globex", token=token)
        (link,) = one.body["traces"]["items"]
        assert link["href"].startswith(
            "https://eu-west-1.console.aws.amazon.com/xray/home?region=eu-west-1#/traces"
        )
        assert "filter=service(%22portal%22)" in link["href"]
    finally:  # the demo's own templates again (other tests read the demo), through the same API
        import json

        admin = local.client.login("admin@globex.demo")
        path = "/api/admin/integrations/deeplinks?tenant=globex"
        revision = local.client.request("GET", path, token=admin).body["revision"]
        body = {**DEEP_LINKS["globex"].model_dump(), "expected_revision": revision, "reason": "e2e: restore"}
        hdrs = {"Content-Type": "application/json"}
        restored = local.client.request("PUT", path, json.dumps(body).encode(), hdrs, token=admin)
        assert restored.status == 200, restored.body


def test_an_auditor_reads_the_templates_without_the_form(local: Any, demo: Any, page: Any) -> None:
    sign_in(page, local.url, "auditor@globex.demo", "#/integrations")
    page.locator('[data-testid="integration-row"]').first.wait_for()
    assert page.locator('[data-testid="integrations-form"]').count() == 0


def test_the_rollup_incidents_domain_shows_each_tenants_postmortem_coverage(local: Any, demo: Any, page: Any):
    """The incidents tile expanded: each demo tenant's postmortem coverage as the API delivers it
    (the mttr run's share, "77.8% (7 of 9)"), no Unknown cell."""
    from infra.local.demo_tenants import PLATFORM_ADMIN

    token = local.client.login(PLATFORM_ADMIN[0])
    doc = local.client.request("GET", "/api/platform/executive?period=28d", token=token).body
    incidents = next(d for d in doc["domains"] if d["id"] == "incidents")
    page.goto(local.url + "/rollup.html")
    page.locator(f'[data-testid="login-user"][data-username="{PLATFORM_ADMIN[0]}"]').click()
    page.locator('[data-testid="rollup-tile"][data-domain="incidents"] [data-testid="tile-toggle"]').click()
    for card in incidents["tenants"]:
        pm = card["metrics"]["postmortem_coverage"]
        assert pm["value"] is not None and pm["display"].endswith(")"), pm
        tenant_card = f'[data-testid="tenant-card"][data-tenant="{card["tenant"]["id"]}"]'
        cell = page.locator(f'{tenant_card} [data-metric="postmortem_coverage"]')
        cell.wait_for()
        assert pm["display"] in cell.inner_text()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "rollup-incidents.png"), full_page=True)


def test_the_incident_drill_shows_the_post_mortem_links(local: Any, demo: Any, page: Any) -> None:
    """ "Post-mortem links" (exec-cockpit-spec.md drill-down paths): the incident history has a
    post-mortem column, and an incident's page links the issue that reviews it."""
    from tests.e2e.test_cockpit_browser import login

    token = local.client.login("ops@northwind.demo")
    listing = local.client.request(
        "GET", "/api/drill/incidents?tenant=northwind&period=28d", token=token
    ).body
    reviewed = [i for i in listing["items"] if i.get("postmortem")]
    assert reviewed, "the demo writes postmortems for Northwind's P1/P2 incidents"
    login(page, local.url, "ops@northwind.demo")
    page.goto(f"{local.url}/#/northwind/ops/drill/incidents?period=28d")
    drill = page.locator('[data-testid="drill"][data-drill-kind="incidents"]')
    drill.wait_for()  # (the dashboard before it has post-mortem links too: its incident timeline)
    links = drill.locator('[data-testid="postmortem-link"]')
    links.first.wait_for()
    assert links.count() == len(reviewed)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "drill-incidents-postmortems.png"), full_page=True)

    one = reviewed[0]
    page.goto(f"{local.url}/#/northwind/ops/drill/incident/{one['id']}")
    section = page.locator(
        '[data-testid="drill"][data-drill-kind="incident"] [data-testid="drill-postmortem"]'
    )
    section.wait_for()
    link = section.locator('[data-testid="postmortem-link"]')
    assert link.get_attribute("href") == one["postmortem"]["url"]
    assert link.inner_text() == (
        "Post-mortem completed" if one["postmortem"]["completed"] else "Post-mortem in progress"
    )
    page.screenshot(path=str(SHOTS / "drill-incident-postmortem.png"), full_page=True)
