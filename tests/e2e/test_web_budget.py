"""The cockpit's first load stays within its budget: ≤ 300 KB compressed (issue #7), counting every
static file the browser fetches from the login page to a rendered persona dashboard. What is counted
is the body as transferred: the local front door compresses as CloudFront does (gzip from 1,000
bytes, smaller files as they are), so the browser's encoded body size is what AWS would send — gzip,
that is, an upper bound: over HTTPS CloudFront answers browsers with Brotli, which is smaller. API
answers are data, not the app, and are not counted (they are gzip too from 1 KB, see
test_local_front_door)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.e2e

BUDGET_BYTES = 300 * 1024


def test_first_load_of_the_cockpit_is_within_300_kb_compressed(local, demo, page):
    from companyos.api import compressible

    from infra.local.http import CLOUDFRONT_COMPRESS_MIN_BYTES

    fetched: dict[str, int] = {}
    encodings: dict[str, str | None] = {}
    raw_sizes: dict[str, int] = {}

    def count(request) -> None:
        response = request.response()
        path = urlparse(request.url).path
        if path.startswith("/api/") or response is None or response.status != 200:
            return
        fetched[path] = request.sizes()["responseBodySize"]  # encoded: the bytes on the wire
        encodings[path] = response.header_value("content-encoding")
        if compressible(response.header_value("content-type")):
            raw_sizes[path] = len(response.body())

    page.on("requestfinished", count)
    page.goto(local.url + "/")
    page.locator('[data-testid="login-user"][data-username="cto@northwind.demo"]').click()
    page.locator('[data-testid="kpi-tile"]').first.wait_for(timeout=15000)
    page.wait_for_load_state("networkidle")

    assert "/" in fetched or "/index.html" in fetched
    assert any(p.endswith(".js") for p in fetched) and any(p.endswith(".css") for p in fetched)
    # every file CloudFront would compress came compressed, so the sum is of transferred bytes
    uncompressed = [
        p for p, n in raw_sizes.items() if n >= CLOUDFRONT_COMPRESS_MIN_BYTES and encodings[p] != "gzip"
    ]
    assert not uncompressed, f"served without gzip: {uncompressed}"
    total = sum(fetched.values())
    biggest = sorted(fetched.items(), key=lambda kv: -kv[1])[:5]
    assert total <= BUDGET_BYTES, f"first load {total} B as sent > {BUDGET_BYTES} B; biggest: {biggest}"
