"""docs/openapi-alerts.json is the alert inbox resolver's own OpenAPI document (`make openapi`): every
route of the alerts_api function, each refusal documented with the one error schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from openapi_spec_validator import validate

from tests.conftest import ROOT

SPEC = ROOT / "docs" / "openapi-alerts.json"


def test_committed_spec_equals_the_generated_one_and_documents_every_route():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TABLE_", "COMPANYOS_"))}
    out = subprocess.run(
        [sys.executable, "-m", "functions.alerts_api.openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert SPEC.read_text() == out.stdout, "docs/openapi-alerts.json is stale: run `make openapi`"
    doc = json.loads(out.stdout)
    validate(doc)
    from companyos import topology

    prefixes = topology.function("alerts_api").api_prefixes
    ops = [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items()]
    assert {p.split("/{")[0] for _, p, _ in ops} >= set(prefixes)
    for method, path, op in ops:
        assert path.startswith(prefixes) and topology.route_owner(path) == "alerts_api", path
        assert {"401", "403", "404", "422"} <= set(op["responses"]), (method, path)
        assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
