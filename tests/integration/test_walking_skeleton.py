"""The one real path, end to end, on embedded AWS: a real GitHub `deployment_status` webhook →
signal → KPI run executed by the Step Functions state machine → run log → score snapshot →
`GET /api/dashboards/cto` with its evidence."""

from __future__ import annotations

import json
from datetime import datetime

import boto3
import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture

SUCCESS = "github/deployment_status.created.success.json"
FAILURE = "github/deployment_status.failure.zulip.json"


def sign(secret: str, body: bytes) -> str:
    from companyos.sources.base import hmac_sha256_hex

    return "sha256=" + hmac_sha256_hex(secret, body)


def post_github(
    local: Running,
    tenant: TenantFixture,
    body: bytes,
    event: str,
    delivery: str,
    signature: str | None = None,
):
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature if signature is not None else sign(tenant.secret, body),
    }
    return local.client.request("POST", f"/api/ingest/github?tenant={tenant.id}", body, headers)


def signals_of(tenant_id: str) -> list:
    from companyos.adapters.repos import SignalStore

    return list(
        SignalStore(tenant_id).query(
            "deployment", datetime(2000, 1, 1).astimezone(), datetime(2100, 1, 1).astimezone()
        )
    )


def executions(local: Running) -> list[dict]:
    return local.stack.executions("kpi_run")


def run_backfill(local: Running, tenant_id: str, as_of: str) -> dict:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name=f"backfill-{tenant_id}-{as_of[:10]}",
        input=json.dumps(
            {
                "pairs": [
                    {"tenant_id": tenant_id, "kpi_id": "deployment_frequency"},
                    {"tenant_id": tenant_id, "kpi_id": "change_failure_rate"},
                ],
                "trigger": {"type": "manual", "by": "test-backfill", "as_of": as_of},
            }
        ),
    )["executionArn"]
    return local.stack.wait_for_execution(arn)


def tile(dashboard: dict, kpi_id: str) -> dict:
    return next(i for p in dashboard["panels"] for i in p["items"] if i["kpi_id"] == kpi_id)


def test_real_deployment_status_flows_through_the_state_machine_to_the_cto_dashboard(local, acme):
    # Given the real GitHub deployment_status delivery (exact bytes), signed with acme's secret
    body = real_fixture(SUCCESS)

    # When GitHub posts it
    reply = post_github(local, acme, body, "deployment_status", "d-success-1")

    # Then one signal is stored for acme, mapped to its service, and an event-triggered run starts
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "stored" and reply.body["signals"] == 1
    stored = signals_of("acme")
    assert len(stored) == 1 and stored[0].service == "hello" and stored[0].attributes["succeeded"] is True
    event_run = next(e for e in executions(local) if e["name"].startswith("evt-acme-"))
    assert local.stack.wait_for_execution(event_run["executionArn"])["status"] == "SUCCEEDED"

    # The deployment happened in May 2019, so the run for "now" finds nothing recent: Unknown, not 0
    dash = local.client.request("GET", "/api/dashboards/cto?tenant=acme", token=acme.cto_token).body
    freq = tile(dash, "deployment_frequency")
    assert freq["value"] is None and freq["status"] == "unknown" and "skipped" in freq["reason"]

    # When a backfill run for the week of that deployment executes through the state machine
    assert run_backfill(local, "acme", "2019-05-16T00:00:00+00:00")["status"] == "SUCCEEDED"

    # Then the CTO dashboard shows the computed value with its evidence
    dash = local.client.request("GET", "/api/dashboards/cto?tenant=acme&period=7d", token=acme.cto_token).body
    freq = tile(dash, "deployment_frequency")
    assert freq["value"] == pytest.approx(1 / 7)
    assert freq["display"] == "0.1/day" and freq["status"] == "critical"  # below the 1/day critical threshold
    evidence = freq["evidence"]
    assert evidence["status"] == "success" and evidence["as_of"].startswith("2019-05-16")
    assert evidence["sources"] == [
        {
            "type": "signal",
            "object": "github.deployment_status",
            "count": 1,
            "latest_at": "2019-05-15T15:20:55+00:00",
        }
    ]
    assert dash["snapshot"]["computed_at"] and dash["snapshot"]["stale"] is False
    cfr = tile(dash, "change_failure_rate")
    assert cfr["value"] == 0.0 and cfr["status"] == "excellent"

    # And the evidence link opens the whole run log of that run
    run = local.client.request("GET", evidence["href"].removeprefix(""), token=acme.cto_token)
    assert run.status == 200, run.body
    assert run.body["run"]["run_id"] == evidence["run_id"] and run.body["run"]["status"] == "success"
    assert run.body["run"]["trigger_type"] == "manual" and run.body["run"]["contract_version"] == "2.0.0"
    assert {r["rule_id"] for r in run.body["pre_validation"]} == {
        "deployments_available",
        "deployments_fresh",
    }
    assert all(r["result"] in ("pass", "fail") for r in run.body["post_validation"])
    assert run.body["delivery"]["values"]["7d"]["value"] == pytest.approx(1 / 7)


def test_redelivery_is_a_no_op(local, acme):
    body = real_fixture(FAILURE)
    first = post_github(local, acme, body, "deployment_status", "d-failure-1")
    before = len(signals_of("acme"))
    again = post_github(local, acme, body, "deployment_status", "d-failure-1")
    assert first.status == 200 and first.body["signals"] == 1
    assert again.status == 202 and again.body["status"] == "duplicate"
    assert len(signals_of("acme")) == before
    assert [s.attributes["succeeded"] for s in signals_of("acme") if s.delivery_id == "d-failure-1"] == [
        False
    ]


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        ("sha256=" + "0" * 64, "signature_invalid"),
        ("", "signature_missing"),
        ("sha1=abc", "signature_missing"),
    ],
)
def test_bad_signature_is_401_and_stores_nothing(local, acme, signature, code):
    body = real_fixture(SUCCESS)
    before_signals, before_runs = len(signals_of("acme")), len(executions(local))
    reply = post_github(local, acme, body, "deployment_status", f"bad-{code}", signature=signature)
    assert reply.status == 401 and reply.body["code"] == code and reply.body["message"]
    assert len(signals_of("acme")) == before_signals and len(executions(local)) == before_runs


def test_signature_from_another_tenants_secret_is_refused(local, acme, umbrella):
    body = real_fixture(SUCCESS)
    reply = post_github(
        local, umbrella, body, "deployment_status", "cross-1", signature=sign(acme.secret, body)
    )
    assert reply.status == 401 and reply.body["code"] == "signature_invalid"
    assert signals_of("umbrella") == []


def test_malformed_body_is_400_and_schema_error_422_with_the_field_path(local, acme):
    before = len(signals_of("acme"))
    broken = post_github(local, acme, b'{"deployment_status": ', "deployment_status", "m-1")
    assert broken.status == 400 and broken.body["code"] == "malformed_body"
    doc = json.loads(real_fixture(SUCCESS))
    del doc["repository"]
    partial = post_github(local, acme, json.dumps(doc).encode(), "deployment_status", "m-2")
    assert partial.status == 422 and partial.body["code"] == "invalid_payload"
    assert partial.body["details"]["path"] == "repository.full_name"
    assert len(signals_of("acme")) == before


def test_oversized_unknown_and_ignored_deliveries(local, acme):
    big = b"{" + b" " * 1_000_001 + b"}"
    assert post_github(local, acme, big, "deployment_status", "big").status == 413
    ping = post_github(local, acme, real_fixture("github/ping.json"), "ping", "ping-1")
    assert ping.status == 202 and ping.body["status"] == "ignored"
    # an event we do not use (`deployment` and `issues` are ingested now, see test_ingest_sources.py)
    unused = post_github(local, acme, real_fixture("github/ping.json"), "star", "dep-1")
    assert unused.status == 202 and "not used" in unused.body["reason"]
    # an unknown tenant is answered exactly as a wrong secret is (no tenant enumeration)
    nobody = local.client.request(
        "POST", "/api/ingest/github?tenant=nobody", b"{}", {"X-Hub-Signature-256": "sha256=00"}
    )
    forged = local.client.request(
        "POST", "/api/ingest/github?tenant=acme", b"{}", {"X-Hub-Signature-256": "sha256=00"}
    )
    assert nobody.status == forged.status == 401 and nobody.body == forged.body
    assert nobody.body["code"] == "signature_invalid"
    source = local.client.request("POST", "/api/ingest/jira?tenant=acme", b"{}", {})
    assert source.status == 404 and source.body["code"] == "unknown_source"
    missing = local.client.request("POST", "/api/ingest/github", b"{}", {})
    assert missing.status == 422 and missing.body["code"] == "invalid_request"


def test_every_ingest_is_audited_in_a_verifiable_chain(local, acme):
    from companyos.adapters.audit import AuditTrail

    post_github(local, acme, real_fixture(SUCCESS), "deployment_status", "audit-1")
    local.stack.seal_audit()  # the stream → sealer (the background poller does it within a second)
    result = AuditTrail("acme").verify()
    assert result.ok and result.events >= 1 and result.signature_valid and result.pending_events == 0
