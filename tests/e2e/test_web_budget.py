"""The cockpit's first load stays within its budget: ≤ 300 KB compressed (issue #7), counting every
static file the browser fetches from the login page to a rendered persona dashboard, each
gzip-compressed as CloudFront serves it. API answers are data, not the app, and are not counted."""

from __future__ import annotations

import gzip
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.e2e

BUDGET_BYTES = 300 * 1024


def test_first_load_of_the_cockpit_is_within_300_kb_compressed(local, demo, page):
    fetched: dict[str, int] = {}

    def count(response) -> None:
        path = urlparse(response.url).path
        if path.startswith("/api/") or response.status != 200:
            return
        fetched[path] = len(gzip.compress(response.body(), compresslevel=6))

    page.on("response", count)
    page.goto(local.url + "/")
    page.locator('[data-testid="login-user"][data-username="cto@northwind.demo"]').click()
    page.locator('[data-testid="kpi-tile"]').first.wait_for(timeout=15000)
    page.wait_for_load_state("networkidle")

    assert "/" in fetched or "/index.html" in fetched
    assert any(p.endswith(".js") for p in fetched) and any(p.endswith(".css") for p in fetched)
    total = sum(fetched.values())
    biggest = sorted(fetched.items(), key=lambda kv: -kv[1])[:5]
    assert total <= BUDGET_BYTES, f"first load {total} B compressed > {BUDGET_BYTES} B; biggest: {biggest}"
