"""#17 "Bad input that is stored and then breaks reads": the admin API refuses what would be stored
and then crash the change window, canary, publish or every dashboard of the tenant — a 4xx with a
code, nothing stored, and the reads keep working afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.admin_helpers import ALWAYS_OPEN, AdminApi, AdminTenant, open_admin_api


@pytest.fixture(scope="module")
def opened(local: Running) -> tuple[AdminTenant, AdminApi]:
    return open_admin_api(local, "edgecase")


@pytest.fixture(scope="module")
def api(opened: tuple[AdminTenant, AdminApi]) -> AdminApi:
    return opened[1]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**ALWAYS_OPEN, "end": "60:00"}, "invalid_request"),  # the probe's window, then every read crashed
        ({**ALWAYS_OPEN, "start": "9:00"}, "invalid_request"),
        ({**ALWAYS_OPEN, "start": "24:00"}, "invalid_request"),
        ({**ALWAYS_OPEN, "reason": ""}, "reason_required"),
        ({**ALWAYS_OPEN, "reason": "   "}, "reason_required"),
        ({**ALWAYS_OPEN, "days": [7]}, "invalid_request"),
        ({**ALWAYS_OPEN, "start": "17:00", "end": "09:00"}, "invalid_window"),
    ],
)
def test_a_change_window_that_cannot_be_read_back_is_refused_and_the_old_one_stays(api, body, code):
    reply = api.call("approver1", "PUT", "/admin/change-window", body)
    assert reply.status == 422 and reply.body["code"] == code, reply.body
    assert reply.body["message"]
    window = api.ok("approver1", "GET", "/admin/change-window")
    assert (window["start"], window["end"], window["open_now"]) == ("00:00", "24:00", True), window


def _pause(api: AdminApi, kpi: str, ver: str, body: dict) -> tuple[int, str]:
    reply = api.call("approver1", "POST", f"/kpis/{kpi}/versions/{ver}/pause", body)
    return reply.status, reply.body.get("code", "")


def test_a_pause_needs_aware_sane_times_and_a_kpi_version_that_exists(api):
    now = clock.now()
    soon, later = now + timedelta(hours=1), now + timedelta(hours=2)
    naive = {"reason": "migration", "starts_at": "2026-01-01T00:00:00"}  # crashed every dashboard
    assert _pause(api, "mttr", "2.1.0", naive) == (422, "invalid_request")
    year_1084 = {"reason": "typo", "ends_at": "1084-01-01T00:00:00+00:00"}
    assert _pause(api, "mttr", "2.1.0", year_1084) == (422, "invalid_request")
    past = {"reason": "late", "ends_at": (now - timedelta(hours=1)).isoformat()}
    assert _pause(api, "mttr", "2.1.0", past) == (422, "invalid_window")
    window = {"reason": "vendor", "starts_at": soon.isoformat(), "ends_at": later.isoformat()}
    assert _pause(api, "not_a_kpi", "1.0.0", window) == (404, "kpi_not_found")
    assert _pause(api, "mttr", "9.9.9", window) == (404, "version_not_found")
    assert _pause(api, "mttr", "2.1.0", {**window, "reason": "  "}) == (422, "reason_required")
    assert _pause(api, "mttr", "2.1.0", {**window, "eta": "x" * 201}) == (422, "invalid_request")
    assert api.ok("approver1", "GET", "/kpis/mttr").get("pauses", []) == []  # nothing was stored
    assert _pause(api, "mttr", "2.1.0", window)[0] == 200


def test_a_naive_pause_stored_before_the_api_refused_them_does_not_break_reads(opened):
    """Records written by an older version (naive ISO times) are read as UTC, never a TypeError."""
    from companyos.admin import catalog

    start = datetime(2026, 12, 1, 8, 0)  # naive, as the old API stored it
    catalog.put_pause(
        "edgecase",
        catalog.Pause(
            catalog.new_pause_id(),
            "deployment_frequency",
            "window",
            "legacy",
            "someone",
            start.isoformat(),
            starts_at=start.isoformat(),
            ends_at=(start + timedelta(days=30)).isoformat(),
        ),
    )
    aware = start.replace(tzinfo=clock.now().tzinfo) + timedelta(hours=1)
    assert "deployment_frequency" in catalog.paused_kpis("edgecase", aware)
    assert catalog.maintenance("edgecase", aware)["deployment_frequency"]["reason"] == "legacy"


WRITES = [
    ("PUT", "/admin/change-window"),
    ("POST", "/kpis/mttr/versions/2.1.0/pause"),
    ("POST", "/kpis/churned_revenue/versions"),
]
BAD_BODIES = [
    (b'\xff\xfe{"reason": "x"}', "application/json", 400, "malformed_body"),  # was a 500
    (b'{"reason": "caf\xe9"}', "application/json", 400, "malformed_body"),  # Latin-1, not UTF-8
    (b'{"reason": "x"}', "text/plain", 415, "unsupported_media_type"),  # was a 415 without a code
    (
        b"--x\r\nContent-Disposition: form-data; name=reason\r\n\r\nx\r\n--x--",
        "multipart/form-data; boundary=x",
        415,
        "unsupported_media_type",
    ),  # was parsed as {} and refused as "days: Field required"
]


@pytest.mark.parametrize(("method", "route"), WRITES)
@pytest.mark.parametrize(("body", "ctype", "status", "code"), BAD_BODIES)
def test_a_body_that_is_not_json_text_is_refused_with_a_code_on_every_write_route(
    local, opened, method, route, body, ctype, status, code
):
    tenant, api = opened
    reply = local.client.request(
        method, f"/api{route}?tenant={tenant.id}", body, {"Content-Type": ctype}, tenant.tokens["approver1"]
    )
    assert (reply.status, reply.body["code"]) == (status, code), reply.body
    assert reply.body["message"]
    assert api.ok("approver1", "GET", "/admin/change-window")["start"] == "00:00"  # nothing stored
