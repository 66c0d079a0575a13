"""The "Threat detection (24h)" rows of the failed_auth_attempts run, and failed sign-ins in the
KPI's value, from the real fixtures parsed by their sources. Each expectation is counted here
from the fixture files over the same 24 hours."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from companyos.domain.verdict import Band
from companyos.runs import formulas
from companyos.runs.formula_base import SignalRow
from companyos.runs.rows_threats import threats_entry
from companyos.sources import registry

from tests.conftest import real_fixture
from tests.unit.sources.helpers import request


def signal_rows(source: str, body: bytes) -> list[SignalRow]:
    parsed = registry.get(source).parse(request(body))
    return [
        SignalRow(
            s.kind, f"{source}-{i}", s.occurred_at, s.attributes, None, None, source, parsed.delivery_id
        )
        for i, s in enumerate(parsed.signals)
    ]


def auth0_body() -> bytes:
    events = json.loads(real_fixture("okta-auth/elastic-auth0-test-login-failure.json"))["events"]
    return json.dumps([e["json"] for e in events]).encode()


def tiles(entry: dict) -> dict[str, dict]:
    return {i["id"]: i for i in entry["items"]}


def test_failed_sign_ins_of_the_last_24_hours():
    as_of = datetime(2021, 11, 4, 1, 0, tzinfo=UTC)
    events = json.loads(auth0_body())
    since = as_of - timedelta(hours=24)
    expected = sum(
        1 for e in events if datetime.fromisoformat(e["data"]["date"].replace("Z", "+00:00")) >= since
    )
    entry = threats_entry({"auth_event": signal_rows("auth0", auth0_body())}, as_of)
    t = tiles(entry)["failed_sign_ins"]
    assert t["value"] == expected == 5 and t["status"] is Band.EXCELLENT  # 5 / 24 h: below the ideal 10 / h
    assert t["evidence"]["sources"] == [
        {
            "type": "signal",
            "object": "auth0.auth_event",
            "count": 5,
            "latest_at": "2021-11-04T00:29:50.035000+00:00",
        }
    ]
    assert "by source: auth0 5" in t["reason"]
    # no WAF log and no GuardDuty finding ever: those tiles are Unknown with what they need
    assert tiles(entry)["blocked_requests"]["value"] is None
    assert tiles(entry)["findings_critical_high"]["status"] is Band.UNKNOWN
    assert "GuardDuty findings" in tiles(entry)["findings_medium"]["reason"]


def test_blocked_requests_of_the_last_24_hours():
    logs = [
        json.loads(x) for x in real_fixture("aws-waf/elastic-test-waf.log").decode().splitlines() if x.strip()
    ]
    as_of = datetime(2020, 6, 17, 12, 0, tzinfo=UTC)
    since_ms = (as_of - timedelta(hours=24)).timestamp() * 1000
    expected = sum(1 for log in logs if log["action"] == "BLOCK" and log["timestamp"] >= since_ms)
    body = real_fixture("aws-waf/elastic-test-waf.log")
    t = tiles(threats_entry({"waf_request": signal_rows("aws_waf", body)}, as_of))["blocked_requests"]
    assert t["value"] == expected == 1 and t["status"] is Band.ATTENTION
    assert t["reason"] == "top rules: RG-Reference 1 · from US 1"
    later = tiles(threats_entry({"waf_request": signal_rows("aws_waf", body)}, as_of + timedelta(days=2)))
    assert later["blocked_requests"]["value"] == 0 and later["blocked_requests"]["status"] is Band.HEALTHY


def test_findings_by_severity_leave_out_guardduty_samples():
    body = real_fixture("aws-guardduty/elastic-test-guardduty.log")
    as_of = datetime(2022, 11, 23, 0, 0, tzinfo=UTC)
    t = tiles(threats_entry({"threat_finding": signal_rows("guardduty", body)}, as_of))
    lines = [json.loads(x) for x in body.decode().splitlines() if x.strip()]
    in_window = ("2022-11-22T00:00:00", "2022-11-23T00:00:00")  # the 24 h to as_of
    samples = [f for f in lines if "severity" in f and in_window[0] <= f["updatedAt"] <= in_window[1]]
    assert all(f["service"]["additionalInfo"]["sample"] for f in samples)
    assert t["findings_critical_high"]["value"] == t["findings_medium"]["value"] == 0
    assert f"{len(samples)} sample finding(s) not counted" in t["findings_critical_high"]["reason"]

    logs = [
        x["Log"]
        for x in yaml.safe_load(real_fixture("aws-guardduty/panther-aws_guardduty_high_sev_findings.yml"))[
            "Tests"
        ]
    ]
    real = [log for log in logs if not log["service"]["additionalInfo"].get("sample")]
    rows = signal_rows("guardduty", json.dumps(real).encode())
    high = tiles(threats_entry({"threat_finding": rows}, datetime(2020, 2, 15, tzinfo=UTC)))
    assert high["findings_critical_high"]["value"] == len({f["id"] for f in real}) == 1
    assert high["findings_critical_high"]["status"] is Band.CRITICAL


def test_no_threat_source_at_all_is_unavailable():
    entry = threats_entry(
        {"auth_event": [], "waf_request": [], "threat_finding": []}, datetime(2026, 6, 10, tzinfo=UTC)
    )
    assert entry["available"] is False and "Okta event hook" in entry["reason"]


def test_failed_auth_attempts_counts_failed_sign_ins_with_denied_decisions():
    rows = signal_rows("auth0", auth0_body()) + signal_rows(
        "cloudtrail", real_fixture("aws-cloudtrail/elastic-test-console-login-json.log")
    )
    failed = sum(1 for r in rows if r.attributes["failed"])
    end = max(r.occurred_at for r in rows).date()
    days = (end - min(r.occurred_at for r in rows).date()).days + 1
    denied = SignalRow("authz_decision", "opa-1", max(r.occurred_at for r in rows), {"allowed": False})
    builtin = formulas.BUILTINS["failed_auth_attempts"]
    buckets, _ = formulas.accumulate(builtin.fold({"auth_event": rows, "authz_decision": [denied]}, {}))
    assert builtin.value(buckets, end, days).value == pytest.approx((failed + 1) / (days * 24))
