"""Every source through HTTP on the embedded stack: each real fixture is stored once (posted twice
and once forged), report re-uploads move findings between open and fixed without double counting,
gzip, size limits, schema errors with their path, unmapped entities, and deliveries larger than one
DynamoDB transaction."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant

TENANT = "ingestco"
SECRETS = {
    "pagerduty": ["pd-current", "pd-previous"],  # rotation: both verify
    "trivy": ["trivy-secret"],
    "snyk": ["snyk-secret"],
    "gitleaks": ["gitleaks-secret"],
    "opa": ["opa-bearer-token"],
    "feature_flags": ["flags-secret"],
    "analytics": ["analytics-secret"],
    "nps": ["nps-secret"],
    "billing": ["billing-secret"],
    "okr": ["okr-secret"],
}


@pytest.fixture(scope="module")
def tenant(local: Running) -> TenantFixture:
    from companyos.adapters.repos import Catalog

    t = make_tenant(local, TENANT, "Ingest Co")
    sm = boto3.client("secretsmanager")
    prefix = local.stack.settings.webhook_secret_prefix
    for source, values in SECRETS.items():
        if len(values) == 1:
            local.stack.put_webhook_secret(TENANT, source, values[0])
        else:
            sm.create_secret(Name=f"{prefix}/{TENANT}/{source}", SecretString=json.dumps({"secrets": values}))
    Catalog().tenant(TENANT).map_source_entity("pagerduty", "PA2P440", "checkout", "Payments")
    Catalog().tenant(TENANT).map_source_entity("trivy", "ingestco/fluentd", "fluentd", "Data Platform")
    return t


def hmac_hex(secret: str, body: bytes) -> str:
    from companyos.sources.base import hmac_sha256_hex

    return hmac_sha256_hex(secret, body)


def signed_headers(
    source: str, body: bytes, tenant: TenantFixture, secret: str | None = None
) -> dict[str, str]:
    if source == "github":
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(secret or tenant.secret, body)}
    if source == "pagerduty":
        return {"X-PagerDuty-Signature": "v1=" + hmac_hex(secret or SECRETS[source][0], body)}
    if source == "opa":
        return {"Authorization": f"Bearer {secret or SECRETS[source][0]}"}
    return {"X-CompanyOS-Signature": "sha256=" + hmac_hex(secret or SECRETS[source][0], body)}


def post(
    local: Running, tenant: TenantFixture, source: str, body: bytes, secret: str | None = None, **extra: str
):
    headers = {"Content-Type": "application/json", **signed_headers(source, body, tenant, secret)}
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return local.client.request("POST", f"/api/ingest/{source}?tenant={TENANT}", body, headers)


def signals(kind: str, delivery_id: str | None = None) -> list[Any]:
    from companyos.adapters.repos import SignalStore

    found = SignalStore(TENANT).query(
        kind, datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    return [s for s in found if delivery_id is None or s.delivery_id == delivery_id]


def total_signals() -> int:
    kinds = (
        "deployment",
        "deployment_created",
        "build",
        "change",
        "commit",
        "incident",
        "vulnerability",
        "secret_finding",
        "authz_decision",
        "flag_evaluation",
        "product_session",
        "product_active",
        "feature_used",
        "nps_response",
        "billing_event",
        "okr_progress",
    )
    return sum(len(signals(k)) for k in kinds)


# (source, fixture, extra headers, expected kind, expected signal count; 0 = ignored with a reason)
FIXTURES = [
    ("github", "github/deployment.created.json", {"X-GitHub-Event": "deployment"}, "deployment_created", 1),
    (
        "github",
        "github/deployment_status.created.success.json",
        {"X-GitHub-Event": "deployment_status"},
        "deployment",
        1,
    ),
    (
        "github",
        "github/deployment_status.failure.zulip.json",
        {"X-GitHub-Event": "deployment_status"},
        "deployment",
        1,
    ),
    ("github", "github/workflow_run.completed.json", {"X-GitHub-Event": "workflow_run"}, "build", 1),
    ("github", "github/check_run.completed.success.json", {"X-GitHub-Event": "check_run"}, "build", 1),
    ("github", "github/check_run.completed.failure.json", {"X-GitHub-Event": "check_run"}, "build", 1),
    ("github", "github/pull_request.closed.merged.json", {"X-GitHub-Event": "pull_request"}, "change", 1),
    (
        "github",
        "github/pull_request.closed.not-merged.octokit.json",
        {"X-GitHub-Event": "pull_request"},
        "change",
        0,
    ),
    ("github", "github/push.json", {"X-GitHub-Event": "push"}, "commit", 1),
    ("github", "github/ping.json", {"X-GitHub-Event": "ping"}, "commit", 0),
    ("pagerduty", "pagerduty/incident.triggered.json", {}, "incident", 1),
    ("pagerduty", "pagerduty/incident.acknowledged.json", {}, "incident", 1),
    ("pagerduty", "pagerduty/incident.resolved.json", {}, "incident", 1),
    ("pagerduty", "pagerduty/incident.priority_updated.json", {}, "incident", 1),
    ("pagerduty", "pagerduty/incident.priority_updated.pagerduty-docs.json", {}, "incident", 1),
    ("trivy", "trivy/fluentd-multiple-lockfiles.json.golden", {}, "vulnerability", 3),
    ("trivy", "trivy/pip.json.golden", {}, "vulnerability", 2),
    ("snyk", "snyk/snyk-test-all-projects-nuget.json", {}, "vulnerability", 3),
    ("snyk", "snyk/snyk-test-maven-single-project.json", {}, "vulnerability", 1),
    (
        "gitleaks",
        "gitleaks/baseline.json",
        {"X-CompanyOS-Target": "ingestco/gitleaks-baseline"},
        "secret_finding",
        2,
    ),
    (
        "gitleaks",
        "gitleaks/json_simple.json",
        {"X-CompanyOS-Target": "ingestco/gitleaks-simple"},
        "secret_finding",
        1,
    ),
    ("opa", "opa/decision-log-upload.opa-docs.json", {}, "authz_decision", 1),
    ("feature_flags", "feature-flags/launchdarkly-feature-event.ld-docs.json", {}, "flag_evaluation", 1),
]


@pytest.mark.parametrize(
    ("source", "fixture", "headers", "kind", "count"), FIXTURES, ids=[f[1] for f in FIXTURES]
)
def test_every_real_fixture_twice_and_forged_gives_exactly_one_set_of_signals(
    local, tenant, source, fixture, headers, kind, count
):
    body = real_fixture(fixture)
    extra = {**headers, "X-GitHub-Delivery": f"it-{fixture}"} if source == "github" else headers
    before_total = total_signals()

    # a forgery (wrong secret) is refused and writes nothing
    forged = post(local, tenant, source, body, secret="not-the-secret", **extra)
    assert forged.status == 401 and forged.body["code"] == "signature_invalid", forged.body
    assert total_signals() == before_total

    first = post(local, tenant, source, body, **extra)
    again = post(local, tenant, source, body, **extra)
    if count == 0:
        assert first.status == 202 and first.body["status"] == "ignored" and first.body["reason"], first.body
        assert again.status == 202 and total_signals() == before_total
        return
    assert first.status == 200 and first.body["status"] == "stored" and first.body["signals"] == count, (
        first.body
    )
    assert again.status == 202 and again.body["status"] == "duplicate", again.body
    assert len(signals(kind, first.body["delivery_id"])) == count
    assert total_signals() == before_total + count


def test_pagerduty_mapped_and_unmapped_services(local, tenant):
    mapped = post(local, tenant, "pagerduty", real_fixture("pagerduty/incident.triggered.json"))
    docs = post(
        local, tenant, "pagerduty", real_fixture("pagerduty/incident.priority_updated.pagerduty-docs.json")
    )
    assert mapped.status in (200, 202) and docs.status in (200, 202)
    (triggered,) = signals("incident", "01BZYIL05THJDFF2Y08X9SVMTU")
    assert triggered.service == "checkout" and triggered.attributes["domain"] == "Payments"
    assert "unmapped" not in triggered.attributes
    (p1,) = signals("incident", "5ac64822-4adc-4fda-ade0-410becf0de4f")
    assert p1.service is None and p1.entity == "PF9KMXH" and p1.attributes["unmapped"] is True
    assert p1.attributes["priority"] == "P1"
    fresh = json.loads(real_fixture("pagerduty/incident.priority_updated.pagerduty-docs.json"))
    fresh["event"]["id"] = "unmapped-check-1"
    reply = post(local, tenant, "pagerduty", json.dumps(fresh).encode())
    assert reply.status == 200 and reply.body["unmapped"] == ["PF9KMXH"]


def test_pagerduty_rotation_previous_secret_and_several_v1_values(local, tenant):
    doc = json.loads(real_fixture("pagerduty/incident.acknowledged.json"))
    doc["event"]["id"] = "rotation-1"
    body = json.dumps(doc).encode()
    header = f"v1={hmac_hex('retired-secret', body)},v1={hmac_hex('pd-previous', body)}"
    reply = local.client.request(
        "POST", f"/api/ingest/pagerduty?tenant={TENANT}", body, {"X-PagerDuty-Signature": header}
    )
    assert reply.status == 200 and reply.body["delivery_id"] == "rotation-1"


def test_pagerduty_unknown_event_type_is_202_ignored(local, tenant):
    body = json.dumps({"event": {"id": "svc-1", "event_type": "service.updated", "data": {}}}).encode()
    reply = post(local, tenant, "pagerduty", body)
    assert reply.status == 202 and reply.body["status"] == "ignored" and "not used" in reply.body["reason"]


def trivy_report(created_at: str, drop_critical: bool = False) -> bytes:
    doc = json.loads(real_fixture("trivy/fluentd-multiple-lockfiles.json.golden"))
    doc["CreatedAt"] = created_at
    if drop_critical:
        vulns = doc["Results"][0]["Vulnerabilities"]
        doc["Results"][0]["Vulnerabilities"] = [v for v in vulns if v["Severity"] != "CRITICAL"]
    return json.dumps(doc).encode()


def scope_state(scope: str, status: str | None = None) -> list[Any]:
    from companyos.adapters.repos import SignalStore

    return [s for s in SignalStore(TENANT).findings("vulnerability", status) if s.scope == scope]


def test_trivy_reupload_marks_the_removed_vulnerability_fixed_without_double_counting(local, tenant):
    scope = "ingestco/fluentd"

    def upload(body: bytes):
        return post(local, tenant, "trivy", body, X_CompanyOS_Target=scope)

    def vuln_signals() -> list[Any]:
        return [s for s in signals("vulnerability") if s.entity == scope]

    first = upload(trivy_report("2024-03-01T10:00:00Z"))
    assert first.status == 200 and first.body["report"]["opened"] == 3 and first.body["report"]["open"] == 3
    assert first.body["unmapped"] == [] and {s.service for s in scope_state(scope)} == {"fluentd"}

    # the same findings in a newer scan: nothing new is counted
    same = upload(trivy_report("2024-03-02T10:00:00Z"))
    assert same.status == 200 and same.body["signals"] == 0 and same.body["report"]["unchanged"] == 3
    assert len(vuln_signals()) == 3

    # the critical one is gone from the next scan: fixed, with its first_seen kept
    fixed = upload(trivy_report("2024-03-05T10:00:00Z", drop_critical=True))
    assert fixed.status == 200 and fixed.body["report"]["fixed"] == 1 and fixed.body["report"]["open"] == 2
    again = upload(trivy_report("2024-03-05T10:00:00Z", drop_critical=True))
    assert again.status == 202 and again.body["status"] == "duplicate"
    assert len(scope_state(scope, "open")) == 2
    (gone,) = scope_state(scope, "fixed")
    assert gone.attributes["vuln_id"] == "CVE-2019-18224" and gone.attributes["severity"] == "critical"
    assert gone.first_seen == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert gone.fixed_at == datetime(2024, 3, 5, 10, tzinfo=UTC)
    transitions = sorted(s.attributes["transition"] for s in vuln_signals())
    assert transitions == ["fixed", "opened", "opened", "opened"]
    (fixed_signal,) = [s for s in vuln_signals() if s.attributes["transition"] == "fixed"]
    assert fixed_signal.attributes["open_for_s"] == 4 * 86400

    # an older scan arriving late does not reopen anything
    late = upload(trivy_report("2024-03-03T10:00:00Z"))
    assert late.status == 202 and late.body["status"] == "ignored" and "older" in late.body["reason"]

    # it comes back: reopened, first_seen still from the first report
    back = upload(trivy_report("2024-03-09T10:00:00Z"))
    assert back.body["report"]["reopened"] == 1 and back.body["report"]["open"] == 3
    (reopened,) = [s for s in vuln_signals() if s.attributes["transition"] == "reopened"]
    assert reopened.attributes["first_seen"] == "2024-03-01T10:00:00+00:00"


def test_empty_gitleaks_report_fixes_the_scopes_open_secrets(local, tenant):
    scope = "ingestco/secrets-clean"
    first = post(local, tenant, "gitleaks", real_fixture("gitleaks/baseline.json"), X_CompanyOS_Target=scope)
    assert first.status == 200 and first.body["report"]["open"] == 2 and first.body["unmapped"] == [scope]
    clean = post(local, tenant, "gitleaks", b"[]", X_CompanyOS_Target=scope)
    assert clean.status == 200 and clean.body["report"]["fixed"] == 2 and clean.body["report"]["open"] == 0
    stored = [s for s in signals("secret_finding") if s.entity == scope]
    assert sorted(s.attributes["transition"] for s in stored) == ["fixed", "fixed", "opened", "opened"]
    assert all("Secret" not in s.attributes and "Match" not in s.attributes for s in stored)


def test_opa_gzip_decision_log_with_bearer_token(local, tenant):
    doc = json.loads(real_fixture("opa/decision-log-upload.opa-docs.json"))
    decisions = []
    for i, result in enumerate([True, False, {"allow": False}]):
        d = copy.deepcopy(doc[0])
        d["decision_id"], d["result"] = f"gz-{i}", result
        decisions.append(d)
    body = gzip.compress(json.dumps(decisions).encode())
    reply = post(local, tenant, "opa", body, Content_Encoding="gzip")
    assert reply.status == 200 and reply.body["signals"] == 3, reply.body
    stored = signals("authz_decision", reply.body["delivery_id"])
    assert sorted(s.attributes["result"] for s in stored) == ["allow", "deny", "deny"]
    assert post(local, tenant, "opa", body, Content_Encoding="gzip").body["status"] == "duplicate"
    broken = post(local, tenant, "opa", body[:-8], Content_Encoding="gzip")
    assert broken.status == 400 and broken.body["code"] == "malformed_body"


def test_oversized_bodies_are_413_before_and_after_gzip(local, tenant):
    before = total_signals()
    big = b"[" + b" " * 1_000_001 + b"]"
    assert post(local, tenant, "trivy", big).status == 413
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    assert len(bomb) < 1_000_000
    reply = post(local, tenant, "opa", bomb, Content_Encoding="gzip")
    assert reply.status == 413 and reply.body["code"] == "payload_too_large"
    assert total_signals() == before


def test_schema_errors_are_422_with_the_field_path_and_store_nothing(local, tenant):
    before = total_signals()
    analytics = {
        "events": [
            {"id": "e1", "type": "feature_used", "occurred_at": "2025-01-01T00:00:00Z", "user_id": "u"}
        ]
    }
    reply = post(local, tenant, "analytics", json.dumps(analytics).encode())
    assert reply.status == 422 and reply.body["code"] == "invalid_payload"
    assert reply.body["details"]["path"] == "events.0.feature"
    doc = json.loads(real_fixture("trivy/pip.json.golden"))
    del doc["Results"][0]["Vulnerabilities"][0]["VulnerabilityID"]
    trivy = post(local, tenant, "trivy", json.dumps(doc).encode())
    assert (
        trivy.status == 422 and trivy.body["details"]["path"] == "Results.0.Vulnerabilities.0.VulnerabilityID"
    )
    pd = json.loads(real_fixture("pagerduty/incident.resolved.json"))
    del pd["event"]["data"]["service"]
    assert (
        post(local, tenant, "pagerduty", json.dumps(pd).encode()).body["details"]["path"]
        == "event.data.service.id"
    )
    assert total_signals() == before


def test_own_formats_are_stored_once_and_forgeries_refused(local, tenant):
    batches = {
        "nps": {"responses": [{"id": "n1", "responded_at": "2025-02-01T09:00:00Z", "score": 9}]},
        "billing": {
            "events": [
                {
                    "id": "b1",
                    "type": "start",
                    "occurred_at": "2025-02-01T09:00:00Z",
                    "account_id": "c1",
                    "currency": "USD",
                    "mrr_before": 0,
                    "mrr_after": 500,
                }
            ]
        },
        "okr": {
            "updates": [
                {
                    "id": "o1",
                    "as_of": "2025-02-01T09:00:00Z",
                    "period": "2025-Q1",
                    "objective_id": "O1",
                    "key_result_id": "KR1",
                    "target_value": 10,
                    "current_value": 4,
                }
            ]
        },
    }
    kinds = {"nps": "nps_response", "billing": "billing_event", "okr": "okr_progress"}
    for source, doc in batches.items():
        body = json.dumps(doc).encode()
        assert post(local, tenant, source, body, secret="wrong").status == 401
        first = post(local, tenant, source, body, X_CompanyOS_Delivery=f"{source}-1")
        again = post(local, tenant, source, body, X_CompanyOS_Delivery=f"{source}-1")
        assert first.status == 200 and again.body["status"] == "duplicate", first.body
        assert len(signals(kinds[source], f"{source}-1")) == 1
    (mrr,) = signals("billing_event", "billing-1")
    assert mrr.attributes["mrr_delta"] == 500 and mrr.attributes["type"] == "start"
    (okr,) = signals("okr_progress", "okr-1")
    assert okr.attributes["progress"] == 0.4


def test_a_delivery_larger_than_one_transaction_is_written_once(local, tenant):
    events = [
        {
            "id": f"big-{i}",
            "type": "active",
            "occurred_at": f"2025-04-01T00:{i // 60:02d}:{i % 60:02d}Z",
            "user_id": f"u{i % 37}",
        }
        for i in range(250)
    ]
    body = json.dumps({"events": events}).encode()
    first = post(local, tenant, "analytics", body)
    assert first.status == 200 and first.body["signals"] == 250, first.body
    again = post(local, tenant, "analytics", body)
    assert again.status == 202 and again.body["status"] == "duplicate"
    assert len(signals("product_active", first.body["delivery_id"])) == 250


def test_replaying_a_cut_off_chunked_delivery_completes_it_once(local, tenant):
    from companyos.adapters.repos import SignalStore
    from companyos.ingest import _stored
    from companyos.sources import registry
    from companyos.sources.base import WebhookRequest

    events = [
        {"id": f"cut-{i}", "type": "active", "occurred_at": "2025-04-02T00:00:00Z", "user_id": "u"}
        for i in range(150)
    ]
    parsed = registry.get("analytics").parse(WebhookRequest({}, json.dumps({"events": events}).encode()))
    stored = [_stored("analytics", parsed.delivery_id, s, i, {}) for i, s in enumerate(parsed.signals)]
    store = SignalStore(TENANT)
    # Given the first chunk was written and then the writer died (no delivery marker yet)
    assert store.put_delivery_chunked("analytics", parsed.delivery_id, stored[:99], 30) is True
    from companyos.adapters.models import SignalItem

    SignalItem.get(f"{TENANT}#delivery", f"analytics#{parsed.delivery_id}").delete()
    # When the same delivery is replayed in full, Then it completes, once
    assert store.put_delivery_chunked("analytics", parsed.delivery_id, stored, 30) is True
    assert store.put_delivery_chunked("analytics", parsed.delivery_id, stored, 30) is False
    assert len(signals("product_active", parsed.delivery_id)) == 150


def test_answers_match_the_published_ingest_spec(local, tenant):
    """Every kind of answer (stored, duplicate, ignored, 401, 413, 422) has the body
    docs/openapi-ingest.json promises for its status."""
    from tests.integration.test_ingest_openapi import schema_validator, spec

    responses = spec()["paths"]["/api/ingest/{source}"]["post"]["responses"]

    def check(reply: Any, status: int) -> None:
        assert reply.status == status, reply.body
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        schema_validator(schema).validate(reply.body)

    doc = {"responses": [{"id": "spec-1", "responded_at": "2025-03-02T09:00:00Z", "score": 10}]}
    body = json.dumps(doc).encode()
    check(post(local, tenant, "nps", body, secret="forged"), 401)
    check(post(local, tenant, "nps", body, X_CompanyOS_Delivery="spec-1"), 200)
    check(post(local, tenant, "nps", body, X_CompanyOS_Delivery="spec-1"), 202)
    ping = real_fixture("github/ping.json")
    check(post(local, tenant, "github", ping, X_GitHub_Event="ping", X_GitHub_Delivery="spec-ping"), 202)
    check(post(local, tenant, "nps", json.dumps({"responses": [{"id": "x"}]}).encode()), 422)
    check(post(local, tenant, "nps", b"{" + b" " * (local.stack.settings.max_webhook_bytes + 1) + b"}"), 413)


def test_the_same_deployment_status_under_two_delivery_ids_is_one_deployment(local, tenant):
    """#17 identity of facts: a redelivery with a new X-GitHub-Delivery (GitHub's "Redeliver" button
    gives the same id; a relay or a second webhook on the org does not) is the same deployment — the
    signal's id comes from deployment_status.id in its repository, not from the delivery."""
    body = real_fixture("github/deployment_status.created.success.json")
    status_id = json.loads(body)["deployment_status"]["id"]

    def stored() -> list[Any]:
        return [s for s in signals("deployment") if s.attributes.get("status_id") == status_id]

    before = len(stored())
    replies = [
        post(
            local, tenant, "github", body, X_GitHub_Event="deployment_status", X_GitHub_Delivery=f"relay-{n}"
        )
        for n in range(2)
    ]
    assert [r.status for r in replies] == [200, 200], [r.body for r in replies]
    assert len(stored()) == max(before, 1)  # one deployment, whichever delivery carried it


def test_the_same_fact_twice_in_one_delivery_is_written_once(local, tenant):
    """A fact's id is the same within a delivery too: one transaction write, not a refused delivery."""
    from companyos.adapters.repos import SignalStore, StoredSignal

    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    twin = StoredSignal(
        "deployment", "github", "fact-twin", at, "o/r", None, "d-twin", {"status_id": -1}, True
    )
    assert SignalStore(TENANT).put_delivery("github", "d-twin", [twin, twin], retention_days=30)
    assert len([s for s in signals("deployment") if s.signal_id == "fact-twin"]) == 1
