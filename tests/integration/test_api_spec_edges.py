"""Defects the schemathesis runs (test_api_fuzz_*.py) found, each pinned at its root."""

from __future__ import annotations

import pytest

from tests.integration.conftest import TenantFixture, make_tenant

MONITORING = ("runs", "validation", "lineage", "sla-violations", "dashboards/ops")


@pytest.fixture(scope="module")
def edges(local) -> TenantFixture:
    return make_tenant(local, "specedges", "Spec Edges")


@pytest.mark.parametrize("view", MONITORING)
def test_a_blank_days_is_refused_not_read_as_the_default(local, edges, view):
    # `?days=` reached the handler as no `days` at all (the local front door dropped blank values,
    # API Gateway passes them): the answer was 200 for the default 7 days
    reply = local.client.request(
        "GET", f"/api/monitoring/{view}?tenant={edges.id}&days=", token=edges.cto_token
    )
    assert reply.status == 422, reply.body
    assert reply.body["code"] == "invalid_request" and reply.body["details"]["path"] == "query.days"
    ok = local.client.request(
        "GET", f"/api/monitoring/{view}?tenant={edges.id}&days=28", token=edges.cto_token
    )
    assert ok.status == 200 and ok.body["window"]["days"] == 28


def test_an_ingest_json_body_valid_for_its_source_is_valid_for_the_spec():
    # The JSON body schema was `oneOf` our formats and the tools' own (open objects): a valid NPS
    # batch matched two branches, so no body was valid for the spec (schemathesis: Unsatisfiable)
    from tests.integration.test_ingest_openapi import schema_validator, spec

    op = spec()["paths"]["/api/ingest/{source}"]["post"]
    body_schema = op["requestBody"]["content"]["application/json"]["schema"]
    batch = {"responses": [{"id": "r1", "responded_at": "2025-03-01T10:00:00Z", "score": 7}]}
    schema_validator(body_schema).validate(batch)
    schema_validator(op["x-source-schemas"]["nps"]).validate(batch)
