"""schemathesis on the admin API's catalog, approvals, governance and vendor routes
(docs/openapi-admin.json), in process as a tenant admin (fuzz_helpers)."""

from __future__ import annotations

from tests.integration.fuzz_helpers import run_spec, tenant_fixture

tenant = tenant_fixture("fuzzadmin")


def test_the_admin_routes_answer_what_the_spec_says(local, tenant):
    tally = run_spec(local, "openapi-admin.json", tenant, examples=10, only=lambda op: "{ver}" not in op)
    assert tally.cases >= 15 * 2 * 10 * 0.9, tally.cases
    assert 200 in tally.statuses["GET /api/kpis/{kpi_id} [positive]"]
