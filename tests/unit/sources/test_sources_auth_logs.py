"""Sign-in logs on the real fixtures (shared/fixtures/real/okta-auth, aws-cloudtrail): Okta event
hooks and System Log records, Auth0 log events, CloudTrail ConsoleLogin. Panther's rule tests and
Elastic's pipeline tests hold real records in their own wrappers (Tests[].Log, {"events":[{"json"}]},
NDJSON lines); the tests post the records as the tool sends them. Expected counts are worked out
here from the files themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources import registry
from companyos.sources.base import hmac_sha256_hex

from tests.conftest import real_fixture
from tests.unit.sources.helpers import by, parse, request


def panther_logs(fixture: str) -> list[dict]:
    return [t["Log"] for t in yaml.safe_load(real_fixture(fixture))["Tests"]]


def test_okta_event_hook_is_one_successful_sign_in_with_place_and_user():
    doc = json.loads(real_fixture("okta-auth/okta-docs-event-hook-user-session-start.json"))
    parsed = parse("okta", "okta-auth/okta-docs-event-hook-user-session-start.json")
    events = doc["data"]["events"]
    assert len(parsed.signals) == sum(1 for e in events if e["eventType"] == "user.session.start") == 1
    (s,) = parsed.signals
    assert s.kind == "auth_event" and s.attributes["outcome"] == "success" and not s.attributes["failed"]
    assert s.attributes["ip"] == events[0]["client"]["ipAddress"]
    assert s.attributes["country"] == "Canada" and s.attributes["city"] == "Toronto"
    assert s.occurred_at == datetime(2023, 3, 26, 21, 5, 32, 159000, tzinfo=UTC)


def test_okta_system_log_records_keep_sign_ins_and_their_failures():
    logs = panther_logs("okta-auth/panther-okta_login_signal.yml")
    body = json.dumps(logs).encode()
    parsed = registry.get("okta").parse(request(body))
    sign_ins = [r for r in logs if r["eventType"] == "user.session.start"]
    failures = [r for r in sign_ins if r["outcome"]["result"] == "FAILURE"]
    assert len(parsed.signals) == len(sign_ins) == 2  # the rate-limit warning is not a sign-in
    assert by(parsed.signals, "outcome") == {
        "success": len(sign_ins) - len(failures),
        "failure": len(failures),
    }
    # Panther writes `published` as "2024-04-02 19:17:37.621000000" (space, nanoseconds)
    assert parsed.signals[0].occurred_at == datetime(2024, 4, 2, 19, 17, 37, 621000, tzinfo=UTC)


def test_okta_impossible_travel_records_only_okta_sign_ins_are_read():
    logs = [r for r in panther_logs("okta-auth/panther-impossible_travel_login.yml") if "eventType" in r]
    okta = [r for r in logs if r.get("eventType", "").startswith("user.session.start")]
    parsed = registry.get("okta").parse(request(json.dumps(logs).encode()))
    assert len(parsed.signals) == len(okta) and len(okta) > 0


def auth0_events() -> list[dict]:
    """Elastic's test wraps each Auth0 log event as {"json": {log_id, data}}: Auth0 sends the array."""
    return [
        e["json"]
        for e in json.loads(real_fixture("okta-auth/elastic-auth0-test-login-failure.json"))["events"]
    ]


def test_auth0_failed_logins_by_type_code():
    events = auth0_events()
    parsed = registry.get("auth0").parse(request(json.dumps(events).encode()))
    codes = [e["data"]["type"] for e in events]
    assert len(parsed.signals) == sum(1 for c in codes if c in ("s", "f", "fp", "fu")) == 5
    assert all(s.attributes["failed"] for s in parsed.signals)
    assert by(parsed.signals, "event_type") == {c: codes.count(c) for c in set(codes)}
    # JSON lines (the log stream's other content format) are the same events
    lines = "\n".join(json.dumps(e) for e in events).encode()
    assert len(registry.get("auth0").parse(request(lines)).signals) == 5


def test_cloudtrail_console_logins_from_every_real_wrapper():
    ndjson = real_fixture("aws-cloudtrail/elastic-test-console-login-json.log")
    records = [json.loads(line) for line in ndjson.decode().splitlines() if line.strip()]
    parsed = registry.get("cloudtrail").parse(request(ndjson))
    failed = [r for r in records if r["responseElements"]["ConsoleLogin"] == "Failure"]
    assert len(parsed.signals) == len(records) == 3
    assert sum(s.attributes["failed"] for s in parsed.signals) == len(failed) == 2
    assert {s.attributes["reason"] for s in parsed.signals if s.attributes["failed"]} == {
        "Failed authentication"
    }

    s3 = parse("cloudtrail", "aws-cloudtrail/awsdocs-consolelogin-iam-user-success-no-mfa.json")
    (ok,) = s3.signals
    assert ok.attributes["mfa"] is False and ok.attributes["user"] == "anaya" and not ok.attributes["failed"]
    root = parse("cloudtrail", "aws-cloudtrail/awsdocs-consolelogin-root-failure.json")
    assert [s.attributes["actor_type"] for s in root.signals] == ["Root"] and root.signals[0].attributes[
        "failed"
    ]
    hidden = parse("cloudtrail", "aws-cloudtrail/awsdocs-iam-consolelogin-failure-incorrect-username.json")
    assert hidden.signals[0].attributes["user"] == "HIDDEN_DUE_TO_SECURITY_REASONS"

    detail = json.loads(real_fixture("aws-cloudtrail/awsdocs-consolelogin-iam-user-failure.json"))
    event = {"detail-type": "AWS Console Sign In via CloudTrail", "source": "aws.signin", "detail": detail}
    (bridge,) = registry.get("cloudtrail").parse(request(json.dumps(event).encode())).signals
    assert bridge.attributes["failed"] and bridge.attributes["mfa"] is True


def test_cloudtrail_panther_records_and_the_one_without_an_event_time_is_refused():
    logs = panther_logs("aws-cloudtrail/panther-aws_console_login_without_mfa.yml")
    timed = [r for r in logs if "eventTime" in r]
    parsed = registry.get("cloudtrail").parse(request(json.dumps({"Records": timed}).encode()))
    logins = [r for r in timed if r.get("eventName") == "ConsoleLogin"]
    assert len(parsed.signals) == len(logins)
    assert sum(s.attributes["failed"] for s in parsed.signals) == sum(
        1 for r in logins if r["responseElements"]["ConsoleLogin"] != "Success"
    )
    with pytest.raises(InvalidPayload) as err:  # one record has no eventTime: the batch is refused
        registry.get("cloudtrail").parse(request(json.dumps({"Records": logs}).encode()))
    assert err.value.details["path"].endswith(".eventTime")


def test_cloudtrail_without_sign_ins_is_ignored_with_the_reason():
    parsed = parse("cloudtrail", "aws-cloudtrail/awsdocs-iam-sts-assumerole-cross-account-1.json")
    assert parsed.signals == [] and "none of the 1 event(s) is a sign-in" in (parsed.ignored_reason or "")


@pytest.mark.parametrize("source", ["okta", "auth0", "cloudtrail"])
def test_the_configured_secret_header_or_our_signature_is_required(source):
    body = b"[]"
    src = registry.get(source)
    src.verify(request(body, Authorization="s3cret"), ["s3cret"])
    src.verify(request(body, Authorization="Bearer s3cret"), ["old", "s3cret"])
    src.verify(request(body, X_CompanyOS_Key="s3cret"), ["s3cret"])
    src.verify(request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("s3cret", body)), ["s3cret"])
    with pytest.raises(SignatureInvalid) as forged:
        src.verify(request(body, Authorization="guess"), ["s3cret"])
    assert forged.value.code == "signature_invalid"
    with pytest.raises(SignatureInvalid) as missing:
        src.verify(request(body), ["s3cret"])
    assert missing.value.code == "signature_missing"
