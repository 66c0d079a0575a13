"""schemathesis on the read API (docs/openapi.json), in process (fuzz_helpers): every answer of
~480 generated requests, valid and invalid, is a documented status with a body that conforms; no
5xx. Deterministic (derandomized, no example database)."""

from __future__ import annotations

from tests.integration.fuzz_helpers import run_spec, tenant_fixture

tenant = tenant_fixture("fuzzread")


def test_the_read_api_answers_what_its_spec_says(local, tenant):
    tally = run_spec(local, "openapi.json", tenant, examples=14, only=lambda _: True)
    assert tally.cases >= 17 * 2 * 14 * 0.9, tally.cases
    # the detail routes were reached with ids that exist, not only with random ones
    for label in ("GET /api/runs/{run_id}", "GET /api/drill/kpi/{kpi_id}", "GET /api/dashboards/{persona}"):
        assert 200 in tally.statuses[f"{label} [positive]"], tally.statuses[f"{label} [positive]"]
