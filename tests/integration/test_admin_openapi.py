"""The admin API's OpenAPI spec is generated from the resolver and committed; it lists every
control-plane endpoint of the seed (publish, pause, resume, rollback, schedule, sla, validation,
lineage, impact, approvals/{id}/decision) plus catalog search, audit verify and export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ("publish", "pause", "resume", "rollback", "schedule", "sla", "validation")


def test_the_committed_spec_matches_the_resolver_and_lists_the_seed_endpoints():
    # a separate process: importing the handler bootstraps (and caches) its settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TABLE_", "COMPANYOS_", "AWS_"))}
    out = subprocess.run(
        [sys.executable, "-m", "functions.admin_api.openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    generated = json.loads(out)
    committed = json.loads((ROOT / "docs" / "openapi-admin.json").read_text())
    assert generated == committed, (
        "regenerate: python -m functions.admin_api.openapi > docs/openapi-admin.json"
    )
    paths = generated["paths"]
    for action in SEED:
        assert "post" in paths[f"/api/kpis/{{kpi_id}}/versions/{{ver}}/{action}"], action
    assert "get" in paths["/api/kpis/{kpi_id}/lineage"] and "get" in paths["/api/kpis/{kpi_id}/impact"]
    assert "post" in paths["/api/approvals/{request_id}/decision"]
    for read in ("/api/catalog", "/api/audit/verify", "/api/audit/export"):
        assert "get" in paths[read], read
