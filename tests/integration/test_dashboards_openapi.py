"""docs/openapi.json is the resolver's own OpenAPI document (regenerate with `make openapi`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def generated() -> str:
    # A separate process: importing the handler binds tables at cold start, which must not leak
    # into this test session's embedded stack.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TABLE_", "COMPANYOS_"))}
    out = subprocess.run(
        [sys.executable, "-m", "functions.read_api.openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_committed_openapi_equals_the_generated_one():
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == generated(), "docs/openapi.json is stale: run `make openapi`"


def test_every_cockpit_route_is_documented():
    from companyos import topology

    paths = json.loads((ROOT / "docs" / "openapi.json").read_text())["paths"]
    for route in topology.function("read_api").api_routes:
        method, path = route.split(" ", 1)
        assert method.lower() in paths.get(path, {}), route
