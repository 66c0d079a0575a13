"""schemathesis on the admin API's version lifecycle routes (docs/openapi-admin.json,
`/api/kpis/{kpi_id}/versions/{ver}/…`), in process as a tenant admin (fuzz_helpers)."""

from __future__ import annotations

from tests.integration.fuzz_helpers import run_spec, tenant_fixture

tenant = tenant_fixture("fuzzversions")


def test_the_version_routes_answer_what_the_spec_says(local, tenant):
    tally = run_spec(local, "openapi-admin.json", tenant, examples=8, only=lambda op: "{ver}" in op)
    assert tally.cases >= 13 * 2 * 8 * 0.9, tally.cases
