"""The demo's sign-in, WAF and GuardDuty logs and GitHub security review requests (infra/local/
demo_threats.py, sent through the real ingest with each tool's own authentication) reach the CISO
page of both demo tenants: the threat tiles are the failed_auth_attempts run's rows, the pending
reviews are the requests no approval answered."""

from __future__ import annotations

import pytest

from infra.local.demo_threats import REVIEWS
from tests.integration.test_dashboards_personas import get


def ciso(local, tenant: str) -> dict:
    return get(local, f"/api/dashboards/ciso?tenant={tenant}&period=7d")


@pytest.mark.parametrize("tenant, reviews", [("northwind", REVIEWS), ("globex", REVIEWS[:2])])
def test_the_ciso_page_shows_threat_tiles_and_pending_reviews(local, demo, tenant, reviews):
    dash = ciso(local, tenant)
    panels = {p["id"]: p for p in dash["panels"]}
    tiles = {t["id"]: t for t in panels["threats"]["items"]}
    assert panels["threats"]["kind"] == "kpi_tiles"
    for tile in tiles.values():
        assert tile["value"] is not None, tile
        assert tile["evidence"]["type"] == "kpi_run" and tile["evidence"]["kpi_id"] == "failed_auth_attempts"
    assert tiles["failed_sign_ins"]["value"] > 0 and tiles["blocked_requests"]["value"] > 0
    high = tiles["findings_critical_high"]
    assert (high["value"] == 1) is (tenant == "northwind")  # the high finding is Northwind's only

    pending = [r for r in reviews if r[1] is None]
    assert panels["reviews"]["kind"] == "list"
    items = panels["reviews"]["items"]
    assert [i["title"].split(": ", 1)[1] for i in items] == [
        r[2] for r in sorted(pending, key=lambda r: -r[0])
    ]
    assert all(i["href"].startswith("https://github.com/") and i["requester"] for i in items)
    statuses = {i["title"].split(": ", 1)[1]: i["status"] for i in items}
    for ago, _, title in pending:
        assert statuses[title] == ("healthy" if ago <= 2 else "warning" if ago <= 7 else "critical")
