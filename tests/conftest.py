"""Shared fixtures: the real third-party payloads (read from ../shared at test time) and one
embedded local AWS stack per session (moto server + the local API front door)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared next to the checkout (COMPANYOS_SHARED_DIR when the checkout lives elsewhere, e.g. a worktree)
SHARED = Path(os.environ.get("COMPANYOS_SHARED_DIR") or ROOT.parent / "shared")
REAL = SHARED / "fixtures" / "real"
PEER = SHARED / "fixtures" / "peer"

# One fixed clock for the whole session, started here at import (before any test module computes
# its `NOW` at collection time), so no result depends on today's date or the time of day.
# Wednesday 2026-06-10 09:30 UTC: mid-morning, mid-week, 9 days after a month start and 20 days
# before a month (and quarter) end, so a suite of even an hour never crosses midnight, a week,
# month or quarter boundary, and UTC has no DST. The clock still moves forward with real time
# (runs started one after another keep their order). COMPANYOS_CLOCK_START, when set, wins
# (e.g. `COMPANYOS_CLOCK_START=2026-06-10T23:50:00+00:00` to try a test at another time of day);
# the variable is exported so that subprocesses read the same clock.
CLOCK_START = "2026-06-10T09:30:00+00:00"
os.environ.setdefault("COMPANYOS_CLOCK_START", CLOCK_START)
from companyos.domain import clock  # noqa: E402  (reads COMPANYOS_CLOCK_START when first imported)

clock.start_at(datetime.fromisoformat(os.environ["COMPANYOS_CLOCK_START"]))


@contextlib.contextmanager
def clock_at(instant: datetime) -> Iterator[None]:
    """Run a block as if it were `instant` (e.g. a delivery received on a past day); the session
    clock then resumes where it was, so readings after the block still follow the ones before it."""
    resume = clock.now()
    clock.start_at(instant)
    try:
        yield
    finally:
        clock.start_at(resume)


def real_fixture(relative: str) -> bytes:
    """Exact bytes of a real payload written by the tool's authors; skip if shared/ is absent."""
    path = REAL / relative
    if not path.is_file():
        pytest.skip(f"real fixture {relative} not available (../shared/fixtures/real is absent)")
    return path.read_bytes()


def peer_fixture(relative: str) -> Path:
    """A peer project's own test data (DevLake, Sloth: see its README); skip if shared/ is absent."""
    path = PEER / relative
    if not path.exists():
        pytest.skip(f"peer fixture {relative} not available (../shared/fixtures/peer is absent)")
    return path


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    wire_bytes: int = 0  # the body's size as sent (compressed, when Content-Encoding says so)


class Client:
    """A small HTTP client for the local front door (the same path a browser or GitHub uses). It asks
    for no compression (urllib sends `Accept-Encoding: identity`) unless a test passes its own
    `Accept-Encoding`; a gzip answer is inflated, its size as sent kept in `Reply.wire_bytes`."""

    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw, status, rh = resp.read(), resp.status, dict(resp.headers)
        except urllib.error.HTTPError as err:
            raw, status, rh = err.read(), err.code, dict(err.headers)
        wire = len(raw)
        if {k.lower(): v for k, v in rh.items()}.get("content-encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        try:
            doc: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            doc = raw.decode(errors="replace")
        return Reply(status, doc, rh, wire)

    def login(self, username: str) -> str:
        reply = self.request("POST", "/api/auth/local-login", json.dumps({"username": username}).encode())
        assert reply.status == 200, reply.body
        return str(reply.body["token"])


@dataclass
class Running:
    stack: Any
    idp: Any
    client: Client
    url: str


@pytest.fixture(scope="session")
def local() -> Iterator[Running]:
    from infra.local.auth import LocalIdP
    from infra.local.http import serve
    from infra.local.stack import LocalStack, free_port

    stack = LocalStack().start()
    idp = LocalIdP()
    port = free_port()
    httpd = serve(stack, idp, port)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    yield Running(stack, idp, Client(url), url)
    httpd.shutdown()
    stack.stop()


@pytest.fixture(scope="session")
def demo(local: Running) -> dict[str, Any]:
    """The two demo tenants, seeded through the real ingest → run → refresh path (once)."""
    from infra.local.seed import seed

    return seed(local.stack, local.idp)
