"""The executive roll-up page (rollup.html) in a real browser: tiles, expansion into per-tenant cards
worst-first, deep links, the certificate drill-down, and the period persisted across a reload."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from companyos import clock

from tests.conftest import Running

pytestmark = pytest.mark.e2e

ADMIN = "exec-admin@rw.test"


@pytest.fixture(scope="module")
def rollup_tenants(local: Running) -> list[str]:
    """Four tenants with 28d and 90d KPI snapshots and some inventory (no demo seed needed)."""
    from companyos.rollup.inventory import CertificateIn, VendorIn
    from companyos.store.inventory_repo import InventoryRepo
    from companyos.store.repos import Catalog, ScoreStore, Tenant

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
            entry = {
                "value": value,
                "previous": value + 2,
                "series": series,
                "status": "warning",
                "score": 100 - 4 * value,
            }
            ScoreStore(tenant_id).put_snapshot(period, {"kpis": {"change_failure_rate": entry}}, now)
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
    from companyos.store.inventory_repo import ExportJobs

    job_id = ExportJobs.new_id()
    ExportJobs().create(
        job_id, {"requested_by": {"sub": f"local-{ADMIN}", "email": ADMIN, "memberships": {}}}
    )
    sign_in(page, local.url)

    page.goto(f"{local.url}/rollup.html#/exports/{job_id}")

    status = page.locator('[data-testid="export-job-status"]')
    status.wait_for(timeout=10000)
    assert status.inner_text() == "Status: queued"
