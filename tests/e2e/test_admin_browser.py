"""The KPI Admin console in a real browser: catalog search, a draft submitted for approval, the
change-request queue with 4-eyes, and the audit chain verified with its KMS-signed digest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).parent / "screenshots"  # test artefacts, git-ignored


def sign_in(page: Any, url: str, username: str, hash_route: str = "#/catalog") -> None:
    page.goto(f"{url}/admin.html{hash_route}")
    page.locator("#admin-user").select_option(username)
    page.locator('[data-testid="admin-login"] button').click()
    page.locator('[data-testid="admin-tenant"]').wait_for(timeout=15000)


def test_admin_searches_drafts_submits_and_a_second_admin_approves(local, demo, browser):
    author = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(author, local.url, "admin@globex.demo")
    author.locator('[data-testid="catalog-row"]').first.wait_for()
    author.locator('[data-testid="catalog-search"]').fill("lead time")
    author.locator(".admin-search button").click()
    author.locator("[data-testid=status]:has-text('match \"lead time\"')").wait_for()
    rows = author.locator('[data-testid="catalog-row"]')
    assert "lead_time_for_changes" in rows.first.inner_text()
    SHOTS.mkdir(exist_ok=True)
    author.screenshot(path=str(SHOTS / "admin-catalog.png"), full_page=True)

    rows.first.locator("a").click()
    author.locator('[data-testid="kpi-detail"]').wait_for()
    author.locator('[data-testid="tab-versions"]').click()
    author.locator('[data-testid="action-new-draft"]').click()
    author.locator('[data-testid="versions-table"]').wait_for()
    author.locator('[data-testid="action-submit"]').click()
    author.locator('[data-testid="status"]:has-text("change request")').wait_for()

    approver = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(approver, local.url, "admin2@globex.demo", "#/approvals")
    row = approver.locator('[data-testid="request-row"]:has-text("lead_time_for_changes")')
    for _ in range(50):  # until the approval execution has parked the request on its task token
        if row.count() and "pending" in row.first.inner_text():
            break
        approver.wait_for_timeout(200)
        approver.reload()
        approver.locator('[data-testid="approvals-table"]').wait_for()
    row.first.locator('[data-testid="decide-approve"]').click()
    approver.locator('[data-testid="status"]:has-text("(1/2)")').wait_for()  # high criticality: 2 approvers
    approver.screenshot(path=str(SHOTS / "admin-approvals.png"), full_page=True)

    # the author cannot approve their own change
    author.goto(f"{local.url}/admin.html#/approvals")
    author.locator('[data-testid="approvals-table"]').wait_for()
    author.locator('[data-testid="request-row"]:has-text("lead_time_for_changes")').first.locator(
        '[data-testid="decide-approve"]'
    ).click()
    alert = author.locator('[data-testid="error-alert"]')
    alert.filter(has_text="author_cannot_approve").wait_for()


def test_auditor_verifies_the_signed_audit_chain_and_cannot_change_anything(local, demo, page):
    sign_in(page, local.url, "auditor@globex.demo", "#/audit")
    page.locator('[data-testid="audit-row"]').first.wait_for()
    page.locator('[data-testid="verify-chain"]').click()
    page.locator('[data-testid="verify-result"] .verify-ok').wait_for()
    assert "signature valid" in page.locator('[data-testid="verify-result"]').inner_text()
    page.goto(f"{local.url}/admin.html#/approvals")
    page.locator('[data-testid="approvals-table"]').wait_for()
    assert page.locator('[data-testid="decide-approve"]').count() == 0
