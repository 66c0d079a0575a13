"""The local front door (infra/local/http.py) as a careless or hostile client meets it: every verb
the API uses is routed (PATCH too), a malformed or oversized Content-Length is refused with a code
before any body is read, a client that stops sending frees its thread, and parallel requests through
one handler module each get their own answer (no router state shared across the server's threads)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant


@pytest.fixture(scope="module")
def tenants(local: Running) -> dict[str, TenantFixture]:
    return {t: make_tenant(local, t, t.title()) for t in ("door-a", "door-b")}


@pytest.fixture(scope="module")
def impatient(local: Running) -> Iterator[int]:
    """A second front door whose connections time out after 0.5 s (the real one waits 30 s)."""
    from infra.local.http import serve
    from infra.local.stack import free_port

    port = free_port()
    httpd = serve(local.stack, local.idp, port)
    httpd.RequestHandlerClass.timeout = 0.5  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield port
    httpd.shutdown()


def raw(port: int, head: str, body: bytes = b"", close_after_send: bool = False) -> tuple[int, Any]:
    """One request over a bare socket; the status and the JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        if close_after_send:
            conn.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload) if payload else None


def port_of(local: Running) -> int:
    return int(local.url.rsplit(":", 1)[1])


def test_patch_reaches_the_api_instead_of_501(local: Running, tenants) -> None:
    reply = local.client.request(
        "PATCH", "/api/kpis/mttr?tenant=door-a", b"{}", {"Content-Type": "application/json"}
    )
    assert reply.status == 401 and reply.body["code"] == "unauthenticated"  # the authorizer answered


def test_a_content_length_that_is_not_a_number_is_a_400_with_a_code(local: Running) -> None:
    status, body = raw(
        port_of(local),
        "POST /api/ingest/nps?tenant=door-a HTTP/1.1\nHost: x\nContent-Length: abc\nConnection: close\n",
    )
    assert status == 400 and body["code"] == "malformed_content_length"


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(local: Running) -> None:
    from infra.local.http import MAX_BODY_BYTES

    head = f"POST /api/ingest/nps?tenant=door-a HTTP/1.1\nHost: x\nContent-Length: {MAX_BODY_BYTES + 1}\n"
    status, body = raw(port_of(local), head)  # nothing of the body is sent: the answer comes anyway
    assert status == 413 and body["code"] == "payload_too_large"


def test_a_body_shorter_than_declared_is_refused_whole(local: Running) -> None:
    head = "POST /api/ingest/nps?tenant=door-a HTTP/1.1\nHost: x\nContent-Length: 100\n"
    status, body = raw(port_of(local), head, b'{"responses": []}', close_after_send=True)
    assert status == 400 and body["code"] == "truncated_body"


def test_a_client_that_stops_sending_gets_a_408_and_frees_its_thread(impatient: int) -> None:
    head = "POST /api/ingest/nps?tenant=door-a HTTP/1.1\nHost: x\nContent-Length: 100\n"
    status, body = raw(impatient, head, b'{"resp')  # ... and then silence, the socket still open
    assert status == 408 and body["code"] == "request_timeout"


def test_parallel_requests_through_one_handler_each_get_their_own_answer(local: Running, tenants) -> None:
    asks = [(t, p) for _ in range(4) for t in tenants for p in ("7d", "28d")]

    def ask(tenant_period: tuple[str, str]) -> tuple[str, str]:
        tenant, period = tenant_period
        reply = local.client.request(
            "GET", f"/api/dashboards/cto?tenant={tenant}&period={period}", token=tenants[tenant].cto_token
        )
        assert reply.status == 200, reply.body
        return reply.body["tenant"]["id"], reply.body["period"]["key"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, asks))
    assert answers == asks


def test_a_function_that_raises_is_a_502_with_a_code_not_a_dropped_connection(
    local: Running, tenants, monkeypatch
) -> None:
    """API Gateway answers 502 when the Lambda function raises; the demo's front door did the same
    thing only by dropping the connection ("Empty reply from server")."""

    def raising(function: str, event: dict[str, Any]) -> dict[str, Any]:
        raise TypeError("a bug in a handler")

    monkeypatch.setattr(local.stack, "invoke_api", raising)
    status, body = raw(
        port_of(local),
        "GET /api/dashboards/cto?tenant=door-a HTTP/1.1\nHost: x\nConnection: close\n"
        f"Authorization: Bearer {tenants['door-a'].cto_token}\n",
    )
    assert status == 502 and body == {"code": "function_error", "message": "Internal server error"}


def test_a_large_answer_comes_gzip_for_a_client_that_accepts_it_and_decodes_to_the_same_json(
    local: Running, tenants
) -> None:
    """What API Gateway sends through CloudFront: the handler's gzip (`companyos.api.compress_response`)
    for `Accept-Encoding: gzip`, with `Vary`, and the plain JSON otherwise (the test client asks for
    `identity`); both decode to the same document."""
    from companyos.topology import COMPRESS_MIN_BYTES

    path, token = "/api/dashboards/cto?tenant=door-a&period=28d", tenants["door-a"].cto_token
    plain = local.client.request("GET", path, token=token)
    packed = local.client.request("GET", path, headers={"Accept-Encoding": "gzip, deflate, br"}, token=token)
    assert plain.status == packed.status == 200
    assert plain.wire_bytes >= COMPRESS_MIN_BYTES, "pick an answer above the threshold"
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["Vary"] == "Accept-Encoding"
    assert packed.wire_bytes < plain.wire_bytes / 3
    assert int(packed.headers["Content-Length"]) == packed.wire_bytes
    # the period's bounds are read off the moving clock at each request; the rest is the same document
    for reply in (plain, packed):
        reply.body["period"] = {k: v for k, v in reply.body["period"].items() if k not in ("start", "end")}
    assert packed.body == plain.body


def test_a_small_answer_is_not_compressed_even_when_gzip_is_accepted(local: Running, tenants) -> None:
    from companyos.topology import COMPRESS_MIN_BYTES

    reply = local.client.request(
        "GET", "/api/me", headers={"Accept-Encoding": "gzip"}, token=tenants["door-a"].cto_token
    )
    assert reply.status == 200 and reply.wire_bytes < COMPRESS_MIN_BYTES
    assert "Content-Encoding" not in reply.headers and "Vary" not in reply.headers
    assert reply.body["tenants"][0]["id"] in tenants


def test_static_files_come_gzip_as_cloudfront_serves_them(local: Running) -> None:
    plain = local.client.request("GET", "/index.html")
    packed = local.client.request("GET", "/index.html", headers={"Accept-Encoding": "gzip"})
    assert plain.status == packed.status == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert packed.body == plain.body and packed.wire_bytes < plain.wire_bytes
