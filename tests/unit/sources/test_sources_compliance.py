"""Prowler (CSV, json-ocsf, json-asff) and Security Hub ASFF reports → `compliance_check` signals.

Expected counts are worked out here by plain counting over the real files of
shared/fixtures/real/prowler/ (prowler-cloud/prowler examples/output and the reporting docs) and the
GuardDuty ASFF finding of the Security Hub docs.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from companyos.domain.errors import InvalidPayload, MalformedBody, SignatureInvalid
from companyos.sources import registry
from companyos.sources.base import hmac_sha256_hex
from companyos.sources.compliance_formats import asff_controls

from tests.conftest import real_fixture
from tests.unit.sources.helpers import by, parse, request

CSV = "prowler/example_output_aws.csv"
OCSF = "prowler/example_output_aws.ocsf.json"
ASFF = "prowler/docs-reporting-example.asff.json"
GUARDDUTY = "aws-guardduty/awsdocs-securityhub-asff-guardduty-ssh-bruteforce.json"
STATUS = {"PASS": "pass", "FAIL": "fail", "MANUAL": "manual", "PASSED": "pass", "FAILED": "fail"}


def _csv_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(real_fixture(CSV).decode()), delimiter=";"))


def test_the_prowler_csv_gives_one_result_per_row_with_its_status():
    rows = _csv_rows()
    parsed = parse("prowler", CSV)
    assert parsed.event == "prowler.prowler_csv"
    assert len(parsed.signals) == len(rows) == 4
    assert by(parsed.signals, "status") == {
        STATUS[k]: n for k, n in Counter(r["STATUS"] for r in rows).items()
    }
    s = next(s for s in parsed.signals if s.attributes["check_id"] == "accessanalyzer_enabled")
    assert s.kind == "compliance_check" and s.entity == "aws:<account_uid>"
    assert s.occurred_at == datetime(2025, 2, 14, 14, 27, 3, 913874, tzinfo=UTC)  # read as UTC
    assert s.attributes["muted"] is False and s.attributes["severity"] == "low"


def test_the_csv_compliance_column_reads_as_the_ocsf_compliance_object():
    """The same checks in the two exports: the CSV's `FW: a, b | FW2: c` is OCSF's unmapped.compliance,
    except where a control's own name holds ", " (AWS-Account-Security-Onboarding's "Billing,
    emergency, security contacts"): the CSV cannot tell that apart from three controls (docs/sources.md
    recommends json-ocsf)."""
    ocsf = {f["metadata"]["event_code"]: f["unmapped"]["compliance"] for f in json.loads(real_fixture(OCSF))}
    from_csv = {s.attributes["check_id"]: s.attributes["controls"] for s in parse("prowler", CSV).signals}
    ambiguous = compared = 0
    for check, controls in from_csv.items():
        assert set(controls) == set(ocsf[check])
        for fw, ids in ocsf[check].items():
            if any(", " in i for i in ids):
                ambiguous += 1
            else:
                compared += 1
                assert controls[fw] == ids
    assert compared > 20 and ambiguous == 2


def test_the_ocsf_export_gives_one_result_per_detection_finding():
    doc = json.loads(real_fixture(OCSF))
    parsed = parse("prowler", OCSF)
    assert parsed.event == "prowler.ocsf" and len(parsed.signals) == len(doc) == 5
    assert by(parsed.signals, "status") == {
        STATUS[k]: n for k, n in Counter(f["status_code"] for f in doc).items()
    }
    # the report's time is the epoch `time` (time_dt is the scanning machine's local time)
    assert {s.occurred_at for s in parsed.signals} == {
        datetime.fromtimestamp(max(f["time"] for f in doc), UTC)
    }
    frameworks = {fw for f in doc for fw in f["unmapped"]["compliance"]}
    assert {fw for s in parsed.signals for fw in s.attributes["controls"]} == frameworks


def test_prowler_asff_requirements_are_framework_then_control_ids():
    (finding,) = json.loads(real_fixture(ASFF))
    (s,) = parse("prowler", ASFF).signals
    assert s.attributes["status"] == STATUS[finding["Compliance"]["Status"]] == "pass"
    assert s.attributes["check_id"] == "rds_instance_minor_version_upgrade_enabled"
    assert s.entity == "aws:ACCOUNT_ID" and s.attributes["resource"] == "rds-instance-id"
    expected = {r.split()[0]: r.split()[1:] for r in finding["Compliance"]["RelatedRequirements"]}
    assert s.attributes["controls"] == expected
    assert s.attributes["controls"]["FFIEC"] == ["d3-cc-pm-b-1", "d3-cc-pm-b-3"]


def test_security_hub_controls_are_read_per_associated_standard_and_requirement():
    """A Security Hub control finding: the `Compliance` attributes of the ASFF reference
    (awsdocs/aws-security-hub-user-guide doc_source/securityhub-findings-format.md, "Compliance":
    Status, SecurityControlId, AssociatedStandards[].StandardsId, RelatedRequirements); the values
    here are made up in that shape."""
    finding = {
        "SchemaVersion": "2018-10-08",
        "GeneratorId": "security-control/IAM.6",
        "Compliance": {
            "Status": "FAILED",
            "SecurityControlId": "IAM.6",
            "RelatedRequirements": ["PCI DSS v3.2.1/8.3.1", "NIST.800-53.r5 AC-2(1)"],
            "AssociatedStandards": [
                {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}
            ],
        },
    }
    assert asff_controls(finding) == {
        "PCI DSS v3.2.1": ["8.3.1"],
        "NIST.800-53.r5": ["AC-2(1)"],
        "aws-foundational-security-best-practices v1.0.0": ["IAM.6"],
    }
    body = json.dumps(
        {"Findings": [finding | {"AwsAccountId": "111122223333", "UpdatedAt": "2026-06-01T10:00:00Z"}]}
    )
    (s,) = registry.get("securityhub").parse(request(body.encode())).signals
    assert s.attributes["check_id"] == "IAM.6" and s.attributes["status"] == "fail"
    assert s.attributes["scanner"] == "securityhub" and s.entity == "aws:111122223333"


def test_a_guardduty_asff_finding_names_no_control_and_is_refused():
    doc = json.loads(real_fixture(GUARDDUTY))
    assert "Compliance" not in doc  # a threat finding, not a control check
    with pytest.raises(InvalidPayload) as err:
        parse("securityhub", GUARDDUTY)
    assert err.value.code == "no_compliance_results" and err.value.details["skipped"] == 1


def test_the_target_header_names_the_scope_and_the_same_report_is_the_same_delivery():
    body = real_fixture(CSV)
    plain = registry.get("prowler").parse(request(body))
    again = registry.get("prowler").parse(request(body))
    scoped = registry.get("prowler").parse(request(body, X_CompanyOS_Target="prod"))
    assert plain.delivery_id == again.delivery_id != scoped.delivery_id
    assert {s.entity for s in scoped.signals} == {"prod"}


def test_uploads_are_signed_with_our_header():
    body = real_fixture(OCSF)
    ok = request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("k", body))
    registry.get("prowler").verify(ok, ["k"])
    with pytest.raises(SignatureInvalid):
        registry.get("prowler").verify(ok, ["other"])


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        (b"{not json", MalformedBody, "malformed_body"),
        (b'{"a": 1}', InvalidPayload, "invalid_report"),
        (b"[]", InvalidPayload, "no_compliance_results"),
        (b'[{"class_uid": 2003}]', InvalidPayload, "invalid_report"),
        (b"AUTH_METHOD;TIMESTAMP;CHECK_ID;STATUS\nx;2025-01-01;c;PASS\n", InvalidPayload, "invalid_report"),
    ],
)
def test_odd_reports_are_refused_with_a_code(body, error, code):
    with pytest.raises(error) as err:
        registry.get("prowler").parse(request(body))
    assert err.value.code == code


def test_an_unknown_status_is_refused_naming_the_line():
    rows = real_fixture(CSV).decode().splitlines()
    header, first = rows[0].split(";"), rows[1].split(";")
    first[header.index("STATUS")] = "MAYBE"
    with pytest.raises(InvalidPayload) as err:
        registry.get("prowler").parse(request("\n".join([rows[0], ";".join(first)]).encode()))
    assert err.value.details["path"] == "line 2.STATUS"
