"""The vendor register page of the admin console in a real browser (issue #16, 7): the demo's
imported register with its overdue tier-1 reviews, a CSV with bad rows refused with their line
numbers (nothing imported), a good CSV imported, and a read-only role sees no write controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_admin_browser import sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).parent / "screenshots"  # test artefacts, git-ignored


def test_admin_sees_the_register_refuses_bad_rows_and_imports_good_ones(
    local: Any, demo: Any, page: Any
) -> None:
    from infra.local.demo_inventory import VENDORS

    sign_in(page, local.url, "admin@globex.demo", "#/vendors")
    page.locator('[data-testid="vendor-row"]').first.wait_for()
    assert page.locator('[data-testid="vendor-row"]').count() == len(VENDORS["globex"][1])
    okta = page.locator('[data-testid="vendor-row"][data-vendor="okta"]')
    assert "never reviewed" in okta.locator('[data-testid="review-state"]').inner_text()
    summary = page.locator('[data-testid="vendor-summary"]').inner_text()
    assert "2 tier-1 out of review" in summary  # Okta (never) and Snowflake (200 d > 180 d cadence)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-vendors.png"), full_page=True)

    bad = "vendor_id,name,tier\nnotion,Notion,2\nx,Bad tier,7\n,No id,1\n"
    page.locator('[data-testid="vendor-csv"]').fill(bad)
    page.locator('[data-testid="vendor-import"]').click()
    errors = page.locator('[data-testid="import-errors"] tbody tr')
    errors.first.wait_for()
    lines = [errors.nth(i).locator("td").first.inner_text() for i in range(errors.count())]
    assert lines == ["3", "4"]
    assert "invalid_tier" in page.locator('[data-testid="import-errors"]').inner_text()
    page.screenshot(path=str(SHOTS / "admin-vendors-import-errors.png"), full_page=True)
    assert page.locator('[data-testid="vendor-row"][data-vendor="notion"]').count() == 0  # nothing imported

    page.locator('[data-testid="vendor-csv"]').fill(
        "vendor_id,name,tier,owner\nnotion,Notion,2,ops@globex.demo\n"
    )
    page.locator('[data-testid="vendor-import"]').click()
    page.locator('[data-testid="status"]:has-text("Imported 1 vendors")').wait_for()
    page.locator('[data-testid="vendor-row"][data-vendor="notion"]').wait_for()


def test_an_auditor_reads_the_register_without_write_controls(local: Any, demo: Any, page: Any) -> None:
    sign_in(page, local.url, "auditor@globex.demo", "#/vendors")
    page.locator('[data-testid="vendor-row"]').first.wait_for()
    assert page.locator('[data-testid="vendor-import"]').count() == 0
    assert page.locator('[data-testid="vendor-edit"]').count() == 0


def test_the_rollup_certificate_cells_of_a_demo_tenant_open_its_acm_certificates(
    local: Any, demo: Any, page: Any
):
    from infra.local.demo_inventory import CERTIFICATES
    from infra.local.demo_tenants import PLATFORM_ADMIN

    page.goto(local.url + "/rollup.html")
    page.locator(f'[data-testid="login-user"][data-username="{PLATFORM_ADMIN[0]}"]').click()
    page.locator(
        '[data-testid="rollup-tile"][data-domain="certificates"] [data-testid="tile-toggle"]'
    ).click()
    card = page.locator('[data-testid="tenant-card"][data-tenant="globex"]')
    cell = card.locator('[data-testid="cert-cell"][data-window="within_7"]')
    cell.wait_for()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "rollup-certificates.png"), full_page=True)
    cell.click()
    rows = page.locator('[data-testid="cert-row"]')
    rows.first.wait_for(timeout=10000)
    expected = sorted(host for host, days in CERTIFICATES["globex"][1] if days < 7)
    assert sorted(rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())) == expected
    assert all(rows.nth(i).locator("td").last.inner_text() == "acm" for i in range(rows.count()))
    page.screenshot(path=str(SHOTS / "rollup-certificate-list.png"), full_page=True)
