"""`make demo`'s start, as a user sees it: `python -m infra.local --port <free>` in a subprocess with a
clean environment, timed from the spawn until the login page answers (GET / is 200 and the demo
logins are listed) and until GET /api/demo/status says the seed is done; while it seeds a dashboard
answers 503 `demo_seeding`, and afterwards every demo tenant's dashboard answers 200.

Reported: the seconds to the login page, to the seeded demo, and the seed's steps. Judged by
login_page_s / seeded_s ≤ 0.25 (the page does not wait for the seed), and by the issue's budget:
the login page within 60 s of the start (#15).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.bench.conftest import BenchReport

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
LOGIN_BUDGET_S = 60.0
SEED_TIMEOUT_S = 1800.0
# a dashboard per demo tenant, asked as one of its members (infra/local/demo_tenants.py)
DASHBOARDS = {"northwind": ("ceo@northwind.demo", "ceo"), "globex": ("cto@globex.demo", "cto")}


def _get(url: str, token: str | None = None, data: bytes | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def _clean_env() -> dict[str, str]:
    """A shell's environment, as `make demo` gets it: nothing from this test session's local stack."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "COMPANYOS_CLOCK_START")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    paths = [str(ROOT / "layers/core/python"), str(ROOT)]
    return env | {"PYTHONPATH": os.pathsep.join(paths), "AWS_EC2_METADATA_DISABLED": "true"}


def _login_page(base: str) -> bool:
    try:
        page, _ = _get(base + "/")
        users_status, users = _get(base + "/api/auth/demo-users")
    except OSError:  # not listening yet
        return False
    return page == 200 and users_status == 200 and bool(users["users"])


def _token(base: str, username: str) -> str:
    status, body = _get(base + "/api/auth/local-login", data=json.dumps({"username": username}).encode())
    assert status == 200, body
    return str(body["token"])


def _dashboard(base: str, tenant: str) -> tuple[int, Any]:
    username, persona = DASHBOARDS[tenant]
    return _get(f"{base}/api/dashboards/{persona}?tenant={tenant}&period=7d", _token(base, username))


def test_bench_demo_startup(bench_report: BenchReport, tmp_path: Path) -> None:
    from infra.local.stack import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "demo.log").open("w")
    started = time.monotonic()
    cmd = [sys.executable, "-m", "infra.local", "--port", str(port), "--no-scheduler"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        while not _login_page(base):
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            assert time.monotonic() - started < SEED_TIMEOUT_S
            time.sleep(0.2)
        login_s = time.monotonic() - started
        during_status, during = _dashboard(base, "northwind")
        status: dict[str, Any] = {}
        while status.get("state") not in ("ready", "failed"):
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            assert time.monotonic() - started < SEED_TIMEOUT_S, status
            time.sleep(1)
            status = _get(base + "/api/demo/status")[1]
        seeded_s = time.monotonic() - started
        after = {tenant: _dashboard(base, tenant)[0] for tenant in DASHBOARDS}
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    ratio = bench_report.record(
        "demo_startup",
        figures={
            "login_page_s": round(login_s, 1),
            "seeded_s": round(seeded_s, 1),
            "seed_steps": status.get("total", 0),
            "final_run": str(status.get("run_status")),
            "dashboard_while_seeding": during_status,
            **{f"dashboard_after_{t}": s for t, s in after.items()},
        },
        ratio=("login_page_s/seeded_s", login_s / seeded_s, 0.25),
    )
    assert status["state"] == "ready" and status["run_status"] == "SUCCEEDED", status
    # the dashboard asked while seeding either waited for the seed (503 demo_seeding) or, when the
    # seed was done by then, answered
    assert (during_status, during.get("code")) == (503, "demo_seeding") or during_status == 200, during
    assert after == {t: 200 for t in DASHBOARDS}, after
    assert login_s <= LOGIN_BUDGET_S, f"login page after {login_s:.0f}s (budget {LOGIN_BUDGET_S:.0f}s)"
    assert ratio is not None and ratio.ok, ratio
