"""The local front door while `make demo` seeds in the background (infra/local/http.py with a
`SeedProgress`): GET /api/demo/status tells where the seed is, the pages carry the progress banner,
a data route of a tenant not seeded yet answers 503 `demo_seeding` (after the authorizer, as a
Retry-After), /api/me and the logins answer at once, and a seeded tenant's routes reach the API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Client, Running
from tests.integration.conftest import make_tenant


@pytest.fixture(scope="module")
def seeding(local: Running) -> Iterator[tuple[Client, Any, dict[str, str]]]:
    from infra.local.demo_status import SeedProgress
    from infra.local.http import serve
    from infra.local.stack import free_port

    tokens = {t: make_tenant(local, t, t.title()).cto_token for t in ("gate-a", "gate-b")}
    progress = SeedProgress(("gate-a", "gate-b"), total=3)
    port = free_port()
    httpd = serve(local.stack, local.idp, port, progress)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Client(f"http://127.0.0.1:{port}"), progress, tokens
    httpd.shutdown()


def test_a_server_that_seeds_nothing_has_no_demo_status(local: Running) -> None:
    assert local.client.request("GET", "/api/demo/status").status == 404
    page = local.client.request("GET", "/")
    assert page.status == 200 and "seed-banner" not in page.body


def test_while_seeding_the_pages_carry_the_banner_and_data_routes_wait(seeding) -> None:
    client, progress, tokens = seeding
    with progress.step_of("gate-a: sources"):
        status = client.request("GET", "/api/demo/status")
        assert status.status == 200
        assert {k: status.body[k] for k in ("state", "step", "done", "total")} == {
            "state": "seeding",
            "step": "gate-a: sources",
            "done": 0,
            "total": 3,
        }
        page = client.request("GET", "/")
        assert (
            page.status == 200 and '<script src="/_local/seed-banner.js" defer></script></head>' in page.body
        )
        banner = client.request("GET", "/_local/seed-banner.js")
        assert banner.status == 200 and banner.headers["Content-Type"] == "text/javascript"
        assert "/api/demo/status" in banner.body
        refused = client.request("GET", "/api/dashboards/cto?tenant=gate-a&period=7d", token=tokens["gate-a"])
        assert refused.status == 503 and refused.body["code"] == "demo_seeding", refused.body
        assert "gate-a is still being seeded (step 1 of 3: gate-a: sources)" in refused.body["message"]
        assert refused.headers["Retry-After"] == "5"
        assert (
            client.request("GET", "/api/dashboards/cto?tenant=gate-a").status == 401
        )  # the authorizer first
        me = client.request("GET", "/api/me", token=tokens["gate-a"])
        assert me.status == 200 and [t["id"] for t in me.body["tenants"]] == ["gate-a"]
        assert client.request("GET", "/api/auth/demo-users").status == 200


def test_a_seeded_tenant_reaches_the_api_while_the_others_wait(seeding) -> None:
    client, progress, tokens = seeding
    progress.finish(["gate-a"], "SUCCEEDED")
    answered = client.request("GET", "/api/dashboards/cto?tenant=gate-a&period=7d", token=tokens["gate-a"])
    assert answered.status != 503 and answered.body.get("code") != "demo_seeding", answered.body
    waiting = client.request("GET", "/api/dashboards/cto?tenant=gate-b&period=7d", token=tokens["gate-b"])
    assert waiting.status == 503 and waiting.body["code"] == "demo_seeding"
    progress.finish(["gate-b"], "SUCCEEDED")
    assert client.request("GET", "/api/demo/status").body["state"] == "ready"
    page = client.request("GET", "/")
    assert page.status == 200 and "seed-banner" not in page.body
    after = client.request("GET", "/api/dashboards/cto?tenant=gate-b&period=7d", token=tokens["gate-b"])
    assert after.status != 503, after.body
