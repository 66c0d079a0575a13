"""The executive roll-up page (rollup.html) in a real browser: tiles, expansion into per-tenant cards
worst-first, deep links, the certificate drill-down, and the period persisted across a reload."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running

pytestmark = pytest.mark.e2e

ADMIN = "exec-admin@rw.test"
SHOTS = Path(__file__).parent / "screenshots"
LABELS = {
    "excellent": "Excellent",
    "healthy": "Healthy",
    "attention": "Attention",
    "warning": "Warning",
    "critical": "Critical",
    "unknown": "Unknown",
}  # web/js/status.js STATUS_LABELS


@pytest.fixture(scope="module")
def rollup_tenants(local: Running) -> list[str]:
    """Four tenants with 28d and 90d KPI snapshots and some inventory (no demo seed needed)."""
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.adapters.repos import Catalog, ScoreStore, Tenant
    from companyos.domain.inventory import CertificateIn, VendorIn

    now = clock.now()
    ids = []
    for i, cfr in enumerate((4.0, 18.0, 9.0, 12.0)):
        tenant_id = f"rw-{i}"
        ids.append(tenant_id)
        Catalog().put_tenant(
            Tenant(tenant_id, f"RW Tenant {i}", "prod", True, "us-east-1", "dora-2024", "e2e")
        )
        Catalog().put_member(tenant_id, ADMIN, "platform_admin", "Exec admin")
        for period, days in (("28d", 28), ("90d", 90)):
            step = 1 if days <= 28 else 7
            series = [
                {"t": (now.date() - timedelta(days=d * step)).isoformat(), "v": cfr + d % 3}
                for d in range(days // step - 1, -1, -1)
            ]
            value = cfr if period == "28d" else cfr + 1
            # change failure rate: target 5 % (80), critical 15 % (40), linear between
            band = (
                "healthy"
                if value <= 5
                else "attention"
                if value <= 10
                else "warning"
                if value <= 15
                else "critical"
            )
            entry = {
                "value": value,
                "previous": value + 2,
                "series": series,
                "status": band,
                "score": 100 - 4 * value,
            }
            on_target = {"value": 30.0, "previous": 30.0, "series": [], "status": "healthy", "score": 80.0}
            kpis = {
                "change_failure_rate": entry,
                "mttr": on_target,
                "deployment_frequency": {**on_target, "value": 10.0},
                "lead_time_for_changes": {**on_target, "value": 4.0},
            }
            ScoreStore(tenant_id).put_snapshot(period, {"kpis": kpis}, now)
        repo = InventoryRepo(tenant_id)
        repo.put_certificate(
            CertificateIn(
                cert_id="api", common_name=f"api.rw{i}.test", not_after=now + timedelta(days=2 + 20 * i)
            )
        )
        repo.put_vendor(VendorIn(vendor_id="aws", name="AWS", tier=1))
    local.idp.add_user(ADMIN, "Exec admin", dict.fromkeys(ids, "platform_admin"))
    return ids


def api_rollup(local: Running, period: str) -> dict[str, Any]:
    token = local.client.login(ADMIN)
    reply = local.client.request("GET", f"/api/platform/executive?period={period}", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def sign_in(page: Any, url: str) -> None:
    page.goto(url + "/rollup.html")
    page.locator(f'[data-testid="login-user"][data-username="{ADMIN}"]').click()
    page.locator('[data-testid="rollup-tile"]').first.wait_for(timeout=15000)


def test_tiles_expand_into_worst_first_tenant_cards_with_deep_links(local, rollup_tenants, page):
    expected = api_rollup(local, "28d")
    sign_in(page, local.url)

    tiles = page.locator('[data-testid="rollup-tile"]')
    assert tiles.count() == 6
    assert [tiles.nth(i).get_attribute("data-domain") for i in range(6)] == [
        d["id"] for d in expected["domains"]
    ]
    dora = next(d for d in expected["domains"] if d["id"] == "dora")
    dora_tile = page.locator('[data-testid="rollup-tile"][data-domain="dora"]')
    assert dora_tile.locator('[data-testid="tile-value"]').inner_text().strip() == dora["display"]
    assert "Snapshots" in dora_tile.locator('[data-testid="snapshot-at"]').inner_text()

    dora_tile.locator('[data-testid="tile-toggle"]').click()
    expansion = page.locator('[data-testid="rollup-expansion"]')
    expansion.wait_for(state="visible")
    assert dora_tile.locator('[data-testid="tile-toggle"]').get_attribute("aria-expanded") == "true"
    cards = expansion.locator('[data-testid="tenant-card"]')
    assert cards.count() == len(dora["tenants"]) == 4
    shown = [cards.nth(i).get_attribute("data-tenant") for i in range(cards.count())]
    assert shown == [c["tenant"]["id"] for c in dora["tenants"]]
    assert shown[0] == "rw-1"  # the highest change failure rate is the worst
    first = cards.first
    assert first.locator('[data-testid="tenant-link"]').get_attribute("href") == "/#/rw-1/cto?period=28d"
    assert first.locator('[data-testid="card-value"]').inner_text().strip() == dora["tenants"][0]["display"]
    assert first.locator('[data-testid="sparkline"]').count() == 1
    assert_words_match_colours(page)
    # rw-1: 18 % is worse than the 15 % critical threshold: Critical, the card too (its worst metric)
    assert first.get_attribute("data-status") == "critical"
    assert first.locator('[data-testid="status"]').first.inner_text().strip().endswith("Critical")


def assert_words_match_colours(page: Any) -> None:
    """Every coloured verdict on the page carries the word of the same verdict: a badge or a value's
    band label says exactly the band its colour class (data-status) is."""
    judged = page.locator(".ro-judged")
    for i in range(judged.count()):
        item = judged.nth(i)
        status = item.get_attribute("data-status")
        value = item.locator(".ro-value")
        assert f"ro-text-{status}" in (value.get_attribute("class") or "")
        word = item.locator('[data-testid="value-status"]')
        if word.count() == 0:  # an Unknown value is its own word
            assert status == "unknown" and value.inner_text().strip() == "Unknown"
        else:
            assert word.inner_text().strip().endswith(LABELS[status])
    badges = page.locator(".ro-status")
    for i in range(badges.count()):
        badge = badges.nth(i)
        assert badge.inner_text().strip().endswith(LABELS[str(badge.get_attribute("data-status"))])
    for selector in ('[data-testid="rollup-tile"]', '[data-testid="tenant-card"]'):
        boxes = page.locator(selector)
        for i in range(boxes.count()):  # the border's colour is the box's verdict, and so is its badge
            box = boxes.nth(i)
            status = str(box.get_attribute("data-status"))
            colour = box.evaluate("e => getComputedStyle(e).borderTopColor")
            token = box.evaluate(f"e => getComputedStyle(e).getPropertyValue('--{status}').trim()")
            assert colour == hex_to_rgb(token), (selector, status, colour, token)
            badge = box.locator('[data-testid="status"]').first
            assert badge.get_attribute("data-status") == status


def hex_to_rgb(token: str) -> str:
    r, g, b = (int(token[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_demo_rollup_counts_objectives_in_budget_and_says_every_verdict_in_words(local, demo, page):
    """The demo tenants as a platform admin sees them (screenshots: rollup-*.png)."""
    token = local.client.login("platform@companyos.demo")
    reply = local.client.request("GET", "/api/platform/executive?period=7d", token=token)
    assert reply.status == 200, reply.body
    slos = next(d for d in reply.body["domains"] if d["id"] == "slos")
    page.goto(local.url + "/rollup.html")
    page.evaluate("localStorage.setItem('rollup.period', JSON.stringify({key: '7d'}))")
    page.reload()
    page.locator('[data-testid="login-user"][data-username="platform@companyos.demo"]').click()
    page.locator('[data-testid="rollup-tiles"][data-period="7d"]').wait_for(timeout=60000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rollup-tiles.png"), full_page=True)

    tile = page.locator('[data-testid="rollup-tile"][data-domain="slos"]')
    assert tile.locator('[data-testid="tile-value"]').inner_text().strip() == slos["display"]
    assert slos["display"].endswith("in budget") and tile.get_attribute("data-status") == slos["status"]
    tile.locator('[data-testid="tile-toggle"]').click()
    card = page.locator('[data-testid="tenant-card"][data-tenant="northwind"]')
    card.wait_for()
    expected = next(c for c in slos["tenants"] if c["tenant"]["id"] == "northwind")
    assert card.locator('[data-testid="card-value"]').inner_text().strip() == expected["display"]
    assert card.get_attribute("data-status") == expected["status"]
    page.screenshot(path=str(SHOTS / "rollup-slos.png"), full_page=True)
    assert_words_match_colours(page)

    page.locator('[data-testid="rollup-tile"][data-domain="dora"] [data-testid="tile-toggle"]').click()
    page.locator('[data-testid="tenant-card"][data-tenant="northwind"]').wait_for()
    page.screenshot(path=str(SHOTS / "rollup-dora.png"), full_page=True)
    assert_words_match_colours(page)


def test_certificate_cells_over_threshold_open_the_tenants_filtered_list(local, rollup_tenants, page):
    sign_in(page, local.url)
    page.locator(
        '[data-testid="rollup-tile"][data-domain="certificates"] [data-testid="tile-toggle"]'
    ).click()
    card = page.locator('[data-testid="tenant-card"][data-tenant="rw-0"]')
    cell = card.locator('[data-testid="cert-cell"][data-window="within_7"]')
    assert cell.get_attribute("href") == "/rollup.html#/certs/rw-0?within=7&status=expiring"
    # a window under its threshold is not a link
    assert card.locator('[data-testid="cert-cell"][data-window="within_90"]').get_attribute("href") is None

    cell.click()

    rows = page.locator('[data-testid="cert-row"]')
    rows.first.wait_for(timeout=10000)
    assert rows.count() == 1 and rows.first.get_attribute("data-cert") == "api"


def test_period_is_persisted_across_a_reload(local, rollup_tenants, page):
    sign_in(page, local.url)
    assert page.locator('[data-testid="period-select"]').input_value() == "28d"

    page.locator('[data-testid="period-select"]').select_option("90d")
    page.locator('[data-testid="rollup-tiles"][data-period="90d"]').wait_for(timeout=15000)
    assert json.loads(page.evaluate("localStorage.getItem('rollup.period')")) == {"key": "90d"}

    page.reload()
    page.locator('[data-testid="rollup-tiles"][data-period="90d"]').wait_for(timeout=15000)
    assert page.locator('[data-testid="period-select"]').input_value() == "90d"
    page.locator('[data-testid="rollup-tile"][data-domain="dora"] [data-testid="tile-toggle"]').click()
    link = page.locator('[data-testid="tenant-card"]').first.locator('[data-testid="tenant-link"]')
    assert link.get_attribute("href").endswith("?period=90d")
    dora = next(d for d in api_rollup(local, "90d")["domains"] if d["id"] == "dora")
    assert (
        page.locator('[data-testid="rollup-tile"][data-domain="dora"] [data-testid="tile-value"]')
        .inner_text()
        .strip()
        == (dora["display"])
    )


def test_non_platform_admins_see_the_reason(local, rollup_tenants, page):
    local.idp.add_user("cto@rw.test", "RW CTO", {"rw-0": "cto"})
    page.goto(local.url + "/rollup.html")
    page.locator('[data-testid="login-user"][data-username="cto@rw.test"]').click()
    alert = page.locator('[data-testid="error-alert"]')
    alert.wait_for(state="visible", timeout=10000)
    page.wait_for_function("document.querySelector('[data-testid=error-alert]').dataset.code !== ''")
    assert alert.get_attribute("data-code") == "platform_admin_required"


def test_export_page_shows_the_jobs_status(local, rollup_tenants, page):
    from companyos.adapters.inventory_repo import ExportJobs

    job_id = ExportJobs.new_id()
    ExportJobs().create(
        job_id, {"requested_by": {"sub": f"local-{ADMIN}", "email": ADMIN, "memberships": {}}}
    )
    sign_in(page, local.url)

    page.goto(f"{local.url}/rollup.html#/exports/{job_id}")

    status = page.locator('[data-testid="export-job-status"]')
    status.wait_for(timeout=10000)
    assert status.inner_text() == "Status: queued"
