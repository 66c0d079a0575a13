"""Sign-in logs (Okta, Auth0, CloudTrail), AWS WAF logs, GuardDuty findings and GitHub security
review requests through HTTP on the embedded stack, then failed_auth_attempts through the kpi_run
state machine and the CISO dashboard's "Threat detection (24h)" and "Pending security reviews".

The first test posts the real bodies of shared/fixtures/real/ byte for byte (as each tool sends
them: Auth0's array from Elastic's wrapper, WAF lines inside a Firehose request). The run test
posts copies of them with other ids and times within the last 24 hours; its expected numbers are
counted here over those copies.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis

TENANT = "threatco"
SOURCES = ("okta", "auth0", "cloudtrail", "aws_waf", "guardduty")
SECRETS = {s: f"{s}-secret-for-{TENANT}" for s in SOURCES}
AS_OF = clock.now().replace(microsecond=0) - timedelta(minutes=1)


def auth(source: str, body: bytes, secret: str | None = None) -> dict[str, str]:
    """Each tool's own way of authenticating (docs/sources.md)."""
    key = secret or SECRETS[source]
    if source in ("okta", "auth0"):
        return {"Authorization": key}  # the event hook's / log stream's configured header value
    if source == "cloudtrail":
        return {"X-CompanyOS-Key": key}  # an EventBridge connection's API key
    if source == "aws_waf":
        return {"X-Amz-Firehose-Access-Key": key}
    return {"X-CompanyOS-Signature": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def post(local: Running, source: str, body: bytes, headers: dict[str, str] | None = None):
    hdrs = {"Content-Type": "application/json", **(auth(source, body) if headers is None else headers)}
    return local.client.request("POST", f"/api/ingest/{source}?tenant={TENANT}", body, hdrs)


def stored(kind: str) -> list[Any]:
    from datetime import UTC, datetime

    from companyos.adapters.repos import SignalStore

    return list(
        SignalStore(TENANT).query(kind, datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    )


def firehose(lines: list[dict[str, Any]], request_id: str) -> bytes:
    records = [{"data": base64.b64encode(json.dumps(x).encode() + b"\n").decode()} for x in lines]
    return json.dumps({"requestId": request_id, "timestamp": 1592361810888, "records": records}).encode()


def waf_logs() -> list[dict[str, Any]]:
    return [
        json.loads(x) for x in real_fixture("aws-waf/elastic-test-waf.log").decode().splitlines() if x.strip()
    ]


def auth0_body() -> bytes:
    events = json.loads(real_fixture("okta-auth/elastic-auth0-test-login-failure.json"))["events"]
    return json.dumps([e["json"] for e in events]).encode()


@pytest.fixture(scope="module")
def threatco(local: Running) -> TenantFixture:
    from companyos.adapters.repos import Catalog

    t = make_tenant(local, TENANT, "Threat Co")
    for source, secret in SECRETS.items():
        local.stack.put_webhook_secret(TENANT, source, secret)
    Catalog().put_member(TENANT, f"ciso@{TENANT}.test", "ciso", "ciso")
    local.idp.add_user(f"ciso@{TENANT}.test", "CISO of Threat Co", {TENANT: "ciso"})
    return t


REAL = {
    "okta": lambda: real_fixture("okta-auth/okta-docs-event-hook-user-session-start.json"),
    "auth0": auth0_body,
    "cloudtrail": lambda: real_fixture("aws-cloudtrail/elastic-test-console-login-json.log"),
    "aws_waf": lambda: firehose(waf_logs(), "firehose-real-1"),
    "guardduty": lambda: real_fixture("aws-guardduty/elastic-test-guardduty.log"),
}
KINDS = {"okta": "auth_event", "auth0": "auth_event", "cloudtrail": "auth_event",
         "aws_waf": "waf_request", "guardduty": "threat_finding"}  # fmt: skip


def test_real_bodies_are_stored_once_and_bad_deliveries_store_nothing(local, threatco):
    expected = {"okta": 1, "auth0": 5, "cloudtrail": 3, "aws_waf": 3, "guardduty": 5}  # see the unit tests
    for source, body in ((s, make()) for s, make in REAL.items()):
        before = len(stored(KINDS[source]))
        first = post(local, source, body)
        assert first.status == 200 and first.body["status"] == "stored", (source, first.body)
        assert first.body["signals"] == expected[source]
        again = post(local, source, body)  # the tool's retry of the same body
        assert again.status == 202 and again.body["status"] == "duplicate", source
        assert len(stored(KINDS[source])) == before + expected[source], source

    # Firehose's contract: 200 with its requestId, also for its retry of a delivered request
    body = firehose(waf_logs()[:1], "firehose-real-2")
    hdrs = {**auth("aws_waf", body), "X-Amz-Firehose-Request-Id": "req-42"}
    for status in ("stored", "duplicate"):
        answer = post(local, "aws_waf", body, hdrs)
        assert answer.status == 200 and answer.body["requestId"] == "req-42", answer.body
        assert answer.body["status"] == status and isinstance(answer.body["timestamp"], int)

    before = {k: len(stored(k)) for k in set(KINDS.values())}
    body = REAL["okta"]().replace(b"f1d0b993", b"aaaaaaaa")  # a new event: would be stored
    forged = post(local, "okta", body, {"Authorization": "a guess"})
    assert forged.status == 401 and forged.body["code"] == "signature_invalid"
    missing = post(local, "okta", body, {})
    assert missing.status == 401 and missing.body["code"] == "signature_missing"
    other_tenant_key = post(
        local, "aws_waf", firehose(waf_logs(), "f-2"), {"X-Amz-Firehose-Access-Key": SECRETS["okta"]}
    )
    assert other_tenant_key.status == 401
    huge = b'{"records": [' + b" " * 1_000_001 + b"]}"
    too_big = post(local, "aws_waf", huge)
    assert too_big.status == 413 and too_big.body["code"] == "payload_too_large"
    broken = post(local, "okta", b'{"eventType": "com.okta.event_hook", "data": {"events": [')
    assert broken.status == 400 and broken.body["code"] == "malformed_body"
    record = json.loads(real_fixture("aws-cloudtrail/awsdocs-consolelogin-iam-user-failure.json"))
    no_time = json.dumps({"Records": [record, {**record, "eventID": "x", "eventTime": None}]}).encode()
    odd = post(local, "cloudtrail", no_time)
    assert odd.status == 422 and odd.body["code"] == "invalid_payload"
    assert odd.body["details"]["path"] == "Records.1.eventTime"
    bad_b64 = post(local, "aws_waf", json.dumps({"requestId": "r", "records": [{"data": "!!"}]}).encode())
    assert bad_b64.status == 400 and bad_b64.body["code"] == "malformed_body"
    assert {k: len(stored(k)) for k in before} == before  # nothing of any refused delivery


# ---------------------------------------------------------------------------- the run and the panels


def _iso(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def okta_hook() -> dict[str, Any]:
    """The real event hook with three copies of its event: two failed sign-ins, one success."""
    doc = json.loads(REAL["okta"]())
    base = doc["data"]["events"][0]
    events = []
    for n, (hours, result) in enumerate(((2, "FAILURE"), (3, "FAILURE"), (4, "SUCCESS"))):
        e = copy.deepcopy(base)
        e.update(uuid=f"run-okta-{n}", published=_iso(AS_OF - timedelta(hours=hours)))
        e["outcome"] = {"result": result, "reason": "INVALID_CREDENTIALS" if result == "FAILURE" else None}
        events.append(e)
    doc["data"]["events"] = events
    doc["eventId"] = "run-okta-hook"
    return doc


def console_logins() -> dict[str, Any]:
    """The real failed ConsoleLogin at 5 h ago, and one older than the 24 hours (30 h ago)."""
    record = json.loads(real_fixture("aws-cloudtrail/awsdocs-consolelogin-iam-user-failure.json"))
    recent = {
        **record,
        "eventID": "run-ct-1",
        "eventTime": (AS_OF - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    old = {
        **record,
        "eventID": "run-ct-2",
        "eventTime": (AS_OF - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {"Records": [recent, old]}


def waf_now() -> list[dict[str, Any]]:
    """The real WAF lines moved to the last hour (the ALLOW one stays allowed)."""
    out = []
    for n, log in enumerate(waf_logs()):
        log = copy.deepcopy(log)
        log["timestamp"] = int((AS_OF - timedelta(minutes=10 + n)).timestamp() * 1000)
        log["httpRequest"]["requestId"] = f"run-waf-{n}"
        out.append(log)
    return out


def guardduty_now() -> dict[str, Any]:
    """The real (non-sample) Panther high-severity finding, updated 6 h ago, as EventBridge sends it."""
    import yaml

    tests = yaml.safe_load(real_fixture("aws-guardduty/panther-aws_guardduty_high_sev_findings.yml"))["Tests"]
    finding = copy.deepcopy(
        next(t["Log"] for t in tests if not t["Log"]["service"]["additionalInfo"].get("sample"))
    )
    finding.update(id="run-gd-1", updatedAt=_iso(AS_OF - timedelta(hours=6)))
    return {"version": "0", "detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": finding}


def review_request() -> tuple[dict[str, Any], Any]:
    doc = json.loads(real_fixture("github-extra/zulip-pull_request__review_requested_team_reviewer.json"))
    doc["requested_team"].update(slug="security", name="Security")
    asked = AS_OF - timedelta(days=3)
    doc["pull_request"]["updated_at"] = asked.strftime("%Y-%m-%dT%H:%M:%SZ")
    return doc, asked


@pytest.fixture(scope="module")
def threat_run(local: Running, threatco: TenantFixture) -> dict[str, Any]:
    from companyos.sources.base import hmac_sha256_hex

    for source, doc in (
        ("okta", okta_hook()),
        ("cloudtrail", console_logins()),
        ("guardduty", guardduty_now()),
    ):
        answer = post(local, source, json.dumps(doc).encode())
        assert answer.status == 200, answer.body
    assert post(local, "aws_waf", firehose(waf_now(), "firehose-run-1")).status == 200
    doc, asked = review_request()
    body = json.dumps(doc).encode()
    hdrs = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "run-review-1",
            "X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(threatco.secret, body)}  # fmt: skip
    review = local.client.request("POST", f"/api/ingest/github?tenant={TENANT}", body, hdrs)
    assert review.status == 200 and review.body["signals"] == 1, review.body
    run_kpis(local, TENANT, ["failed_auth_attempts"], AS_OF, "threats-run-1")
    token = local.client.login(f"ciso@{TENANT}.test")
    dash = local.client.request("GET", f"/api/dashboards/ciso?tenant={TENANT}&period=7d", token=token).body
    return {"dash": dash, "asked": asked, "review": doc}


def panel(dash: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in dash["panels"] if p["id"] == pid)


def test_threat_tiles_are_the_runs_24_hour_counts(threat_run):
    threats = panel(threat_run["dash"], "threats")
    assert threats["kind"] == "kpi_tiles"
    tiles = {t["id"]: t for t in threats["items"]}
    failed = sum(1 for e in okta_hook()["data"]["events"] if e["outcome"]["result"] == "FAILURE") + 1  # + CT
    assert tiles["failed_sign_ins"]["value"] == failed == 3
    assert tiles["blocked_requests"]["value"] == sum(1 for x in waf_now() if x["action"] == "BLOCK") == 3
    assert tiles["blocked_requests"]["status"] == "attention"
    assert (
        tiles["findings_critical_high"]["value"] == 1
        and tiles["findings_critical_high"]["status"] == "critical"
    )
    assert tiles["findings_medium"]["value"] == 0 and tiles["findings_medium"]["status"] == "healthy"
    ev = tiles["failed_sign_ins"]["evidence"]
    assert ev["type"] == "kpi_run" and ev["kpi_id"] == "failed_auth_attempts" and ev["run_id"]
    assert {s["object"] for s in ev["sources"]} == {"okta.auth_event", "cloudtrail.auth_event"}


def test_failed_sign_ins_count_in_failed_auth_attempts(threat_run):
    security = panel(threat_run["dash"], "security")
    tile = next(t for t in security["items"] if t["id"] == "failed_auth_attempts")
    # 7 days: the 3 failures of the last 24 h and the console failure of 30 h ago (no OPA decisions);
    # the real bodies of the first test are years old
    assert tile["value"] == pytest.approx(4 / (7 * 24))
    assert (
        tile["evidence"]["run_id"] == panel(threat_run["dash"], "threats")["items"][0]["evidence"]["run_id"]
    )


def test_the_pending_security_review_with_age_requester_and_link(threat_run, local):
    reviews = panel(threat_run["dash"], "reviews")
    assert reviews["kind"] == "list", reviews
    (item,) = reviews["items"]
    doc = threat_run["review"]
    assert item["id"] == f"{doc['repository']['full_name']}#{doc['pull_request']['number']}"
    assert item["href"] == doc["pull_request"]["html_url"] and item["requester"] == doc["sender"]["login"]
    computed = threat_run["dash"]["snapshot"]["computed_at"]
    from datetime import datetime

    age = (datetime.fromisoformat(computed) - threat_run["asked"]).total_seconds() / 86400
    assert item["age_days"] == pytest.approx(age, abs=0.01) and item["status"] == "warning"  # 2-7 days
    assert item["evidence"]["sources"][0]["object"] == "github.security_review"
