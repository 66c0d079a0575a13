"""AWS WAF logs and GuardDuty findings on the real fixtures (shared/fixtures/real/aws-waf,
aws-guardduty): Elastic's NDJSON test logs, Panther's rule test records, AWS's ASFF sample.
Expected counts come from the files themselves."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from companyos.domain.errors import MalformedBody
from companyos.sources import registry
from companyos.sources.base import hmac_sha256_hex

from tests.conftest import real_fixture
from tests.unit.sources.helpers import by, parse, request


def waf_logs() -> list[dict]:
    return [
        json.loads(x) for x in real_fixture("aws-waf/elastic-test-waf.log").decode().splitlines() if x.strip()
    ]


def firehose(logs: list[dict], request_id: str = "ed4a4a6c-fc7b-4a6a-9e4e-1f2c3d4e5f60") -> bytes:
    """What Kinesis Data Firehose POSTs to an HTTP endpoint: each record's data is base64 of a log line."""
    records = [{"data": base64.b64encode(json.dumps(log).encode() + b"\n").decode()} for log in logs]
    return json.dumps({"requestId": request_id, "timestamp": 1592361810888, "records": records}).encode()


def test_waf_log_lines_the_rules_acted_on():
    logs = waf_logs()
    parsed = parse("aws_waf", "aws-waf/elastic-test-waf.log")
    acted = [log for log in logs if log["action"] != "ALLOW"]
    assert len(parsed.signals) == len(acted) == 3  # the one ALLOW (default action) is not stored
    assert by(parsed.signals, "action") == {"BLOCK": sum(1 for log in acted if log["action"] == "BLOCK")}
    assert by(parsed.signals, "rule") == {"STMTest_SQLi_XSS": 2, "RG-Reference": 1}
    group = next(s for s in parsed.signals if s.attributes["rule_type"] == "GROUP")
    assert group.attributes["rule_group"].endswith(
        "rulegroup/hello-world/c05lb698-1f11-4m41-aef4-99a506d53f4b"
    )
    assert {s.attributes["webacl"] for s in parsed.signals} == {"STMTest", "hello-world", "test"}
    assert all(s.occurred_at.year in (2019, 2020) for s in parsed.signals)  # epoch milliseconds


def test_waf_through_firehose_uses_its_request_id_and_refuses_bad_base64():
    body = firehose(waf_logs())
    parsed = registry.get("aws_waf").parse(request(body, X_Amz_Firehose_Request_Id="req-1"))
    assert parsed.delivery_id == "req-1" and len(parsed.signals) == 3
    assert registry.get("aws_waf").parse(request(body)).delivery_id == json.loads(body)["requestId"]
    only_allowed = firehose([log for log in waf_logs() if log["action"] == "ALLOW"])
    ignored = registry.get("aws_waf").parse(request(only_allowed))
    assert ignored.signals == [] and "1 allowed" in (ignored.ignored_reason or "")
    bad = json.dumps({"requestId": "r", "records": [{"data": "%%% not base64"}]}).encode()
    with pytest.raises(MalformedBody):
        registry.get("aws_waf").parse(request(bad))


def test_waf_accepts_firehose_access_key():
    src = registry.get("aws_waf")
    src.verify(request(b"{}", X_Amz_Firehose_Access_Key="k"), ["k"])
    src.verify(request(b"{}", X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("k", b"{}")), ["k"])


def test_guardduty_native_findings_by_severity_band_and_samples_flagged():
    lines = real_fixture("aws-guardduty/elastic-test-guardduty.log").decode().splitlines()
    docs = [json.loads(x) for x in lines if x.strip()]
    findings = [d for d in docs if "severity" in d] + [f for d in docs for f in d.get("findings", [])]
    parsed = parse("guardduty", "aws-guardduty/elastic-test-guardduty.log")
    assert len(parsed.signals) == len(findings) == 5
    bands = {"high": sum(1 for f in findings if 7 <= f["severity"] < 9),
             "medium": sum(1 for f in findings if 4 <= f["severity"] < 7)}  # fmt: skip
    assert by(parsed.signals, "severity") == bands
    samples = sum(1 for f in findings if (f["service"].get("additionalInfo") or {}).get("sample") is True)
    assert sum(s.attributes["sample"] for s in parsed.signals) == samples == 4


def test_guardduty_eventbridge_event_and_panther_records():
    logs = [
        t["Log"]
        for t in yaml.safe_load(real_fixture("aws-guardduty/panther-aws_guardduty_high_sev_findings.yml"))[
            "Tests"
        ]
    ]
    event = {"version": "0", "detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": logs[0]}
    (one,) = registry.get("guardduty").parse(request(json.dumps(event).encode())).signals
    assert one.attributes["severity"] == "high" and one.attributes["type"] == logs[0]["type"]
    assert not one.attributes["sample"]
    both = registry.get("guardduty").parse(request(json.dumps(logs).encode())).signals
    assert [s.attributes["sample"] for s in both] == [
        bool(log["service"]["additionalInfo"].get("sample")) for log in logs
    ]


def test_guardduty_asff_finding_and_other_products_are_skipped():
    doc = json.loads(real_fixture("aws-guardduty/awsdocs-securityhub-asff-guardduty-ssh-bruteforce.json"))
    parsed = parse("guardduty", "aws-guardduty/awsdocs-securityhub-asff-guardduty-ssh-bruteforce.json")
    (s,) = parsed.signals
    assert s.attributes["severity"] == doc["Severity"]["Label"].lower()
    assert (
        s.attributes["type"] == doc["Types"][0].rsplit("/", 1)[-1] == "UnauthorizedAccess:EC2-SSHBruteForce"
    )
    prowler = {
        **doc,
        "ProductArn": "arn:aws:securityhub:eu-west-1::product/prowler/prowler",
        "ProductFields": {},
    }
    hub = {"detail-type": "Security Hub Findings - Imported", "detail": {"findings": [prowler]}}
    skipped = registry.get("guardduty").parse(request(json.dumps(hub).encode()))
    assert skipped.signals == [] and "1 findings of other products" in (skipped.ignored_reason or "")
