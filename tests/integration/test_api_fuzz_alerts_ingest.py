"""schemathesis on the alert inbox API (docs/openapi-alerts.json) and on the ingest route
(docs/openapi-ingest.json: signed with the tenant's secrets, so generated bodies reach each source's
parser), in process (fuzz_helpers)."""

from __future__ import annotations

from tests.integration.fuzz_helpers import run_spec, tenant_fixture

tenant = tenant_fixture("fuzzalerts")


def test_the_alerts_api_answers_what_its_spec_says(local, tenant):
    tally = run_spec(local, "openapi-alerts.json", tenant, examples=14, only=lambda _: True)
    assert tally.cases >= 8 * 2 * 14 * 0.9, tally.cases


def test_the_ingest_route_answers_what_its_spec_says(local, tenant):
    tally = run_spec(local, "openapi-ingest.json", tenant, examples=40, only=lambda _: True)
    assert tally.cases >= 2 * 2 * 40 * 0.9, tally.cases
