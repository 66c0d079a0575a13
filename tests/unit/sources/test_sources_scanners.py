"""Trivy / Snyk / Gitleaks: every real report parses into findings with the README's counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources.base import hmac_sha256_hex
from companyos.sources.scanners import TrivySource, normalise_severity

from tests.conftest import real_fixture
from tests.unit.sources.helpers import by, parse, request


def test_trivy_fluentd_critical_high_low():
    parsed = parse("trivy", "trivy/fluentd-multiple-lockfiles.json.golden")
    assert by(parsed.signals, "severity") == {"critical": 1, "high": 1, "low": 1}
    assert parsed.snapshot is not None and parsed.snapshot.scanner == "trivy"
    assert parsed.snapshot.scopes == ("testdata/fixtures/sbom/fluentd-multiple-lockfiles-cyclonedx.json",)
    assert parsed.snapshot.taken_at == datetime(2021, 8, 25, 12, 20, 30, tzinfo=UTC)  # CreatedAt (ns cut)
    crit = next(s for s in parsed.signals if s.attributes["severity"] == "critical")
    assert crit.kind == "vulnerability" and crit.attributes["vuln_id"] == "CVE-2019-18224"
    assert crit.attributes["package"] == "libidn2-0" and crit.attributes["version"] == "2.0.5-1"
    assert crit.attributes["fixed_version"] == "2.0.5-1+deb10u1" and crit.attributes["fix_available"] is True
    assert (
        crit.attributes["target"]
        == "testdata/fixtures/sbom/fluentd-multiple-lockfiles-cyclonedx.json (debian 10.2)"
    )
    low = next(s for s in parsed.signals if s.attributes["severity"] == "low")
    assert low.attributes["fixed_version"] is None and low.attributes["fix_available"] is False
    assert {s.attributes["target"] for s in parsed.signals} >= {"Ruby"}


def test_trivy_pip_high_medium_with_distinct_keys_for_one_package():
    parsed = parse("trivy", "trivy/pip.json.golden")
    assert by(parsed.signals, "severity") == {"high": 1, "medium": 1}
    assert {s.attributes["vuln_id"] for s in parsed.signals} == {"CVE-2019-14806", "CVE-2020-28724"}
    assert {s.attributes["package"] for s in parsed.signals} == {"Werkzeug"}
    assert len({s.key for s in parsed.signals}) == 2
    assert parsed.snapshot and parsed.snapshot.scopes == ("testdata/fixtures/repo/pip",)


def test_trivy_delivery_id_is_the_content_hash_and_target_header_overrides_scope():
    body = real_fixture("trivy/pip.json.golden")
    a = TrivySource().parse(request(body))
    b = TrivySource().parse(request(body, X_CompanyOS_Target="acme/api"))
    assert a.delivery_id == TrivySource().parse(request(body)).delivery_id  # same bytes, same delivery
    assert b.delivery_id != a.delivery_id  # the same report for another scope is another delivery
    assert b.snapshot and b.snapshot.scopes == ("acme/api",)
    assert {s.entity for s in b.signals} == {"acme/api"}


def test_trivy_schema_errors_name_the_path():
    doc = json.loads(real_fixture("trivy/pip.json.golden"))
    del doc["Results"][0]["Vulnerabilities"][1]["Severity"]
    with pytest.raises(InvalidPayload) as err:
        TrivySource().parse(request(json.dumps(doc).encode()))
    assert err.value.details["path"] == "Results.0.Vulnerabilities.1.Severity"
    doc["SchemaVersion"] = 1
    with pytest.raises(InvalidPayload) as old:
        TrivySource().parse(request(json.dumps(doc).encode()))
    assert old.value.details["path"] == "SchemaVersion"


def test_upload_signature_is_our_sha256_header():
    body = real_fixture("trivy/pip.json.golden")
    TrivySource().verify(request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("s", body)), ["s"])
    with pytest.raises(SignatureInvalid):
        TrivySource().verify(
            request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("t", body)), ["s"]
        )
    with pytest.raises(SignatureInvalid) as missing:
        TrivySource().verify(request(body), ["s"])
    assert missing.value.code == "signature_missing"


def test_snyk_all_projects_array_high_2_medium_1():
    parsed = parse("snyk", "snyk/snyk-test-all-projects-nuget.json")
    assert by(parsed.signals, "severity") == {"high": 2, "medium": 1}
    assert parsed.snapshot and parsed.snapshot.scopes == ("DotNetMultiProject",)
    high_targets = {s.attributes["target"] for s in parsed.signals if s.attributes["severity"] == "high"}
    assert high_targets == {
        "SomeProject.RandomProject.BankAccounts.Database/obj/project.assets.json",
        "SomeProject.RandomProject.Rules.Database/obj/project.assets.json",
    }
    azure = next(s for s in parsed.signals if s.attributes["package"] == "Azure.Identity")
    assert azure.attributes["vuln_id"] == "SNYK-DOTNET-AZUREIDENTITY-6009155"
    assert azure.attributes["version"] == "1.7.0" and azure.attributes["fixed_version"] == "1.10.2"
    assert azure.attributes["cves"] == ["CVE-2023-36414"]
    assert azure.attributes["published_at"] == "2023-10-19T11:55:35.830834+00:00"


def test_snyk_single_project_object_with_a_license_issue():
    parsed = parse("snyk", "snyk/snyk-test-maven-single-project.json")
    (s,) = parsed.signals
    assert s.attributes["severity"] == "medium" and s.attributes["issue_type"] == "license"
    assert s.attributes["package"] == "org.mozilla:rhino" and s.attributes["license"] == "MPL-2.0"
    assert parsed.snapshot and parsed.snapshot.scopes == ("mytestmodule",)  # root of the dependency paths


def test_snyk_report_without_a_project_name_needs_the_target_header():
    body = json.dumps({"ok": True, "packageManager": "npm", "vulnerabilities": []}).encode()
    with pytest.raises(InvalidPayload) as err:
        parse_body("snyk", body)
    assert err.value.details["path"] == "projectName"
    assert parse_body("snyk", body, X_CompanyOS_Target="acme/web").snapshot.scopes == ("acme/web",)


def parse_body(source: str, body: bytes, **headers: str):
    from companyos.sources import registry

    return registry.get(source).parse(request(body, **headers))


def test_gitleaks_baseline_two_findings_without_secret_text():
    parsed = parse("gitleaks", "gitleaks/baseline.json", X_CompanyOS_Target="gitleaks/gitleaks")
    assert [s.kind for s in parsed.signals] == ["secret_finding", "secret_finding"]
    assert {s.attributes["start_line"] for s in parsed.signals} == {32, 33}
    first = parsed.signals[0].attributes
    assert first["rule"] == "pypi-upload-token" and first["file"] == "detect/detect_test.go"
    assert first["commit"] == "9326f35380636bcbe61e94b0584d1618c4b5c2c2"
    assert (
        first["fingerprint"]
        == "9326f35380636bcbe61e94b0584d1618c4b5c2c2:detect/detect_test.go:pypi-upload-token:32"
    )
    assert first["committed_at"] == "2022-03-07T14:33:06+00:00"
    assert parsed.snapshot and parsed.snapshot.scopes == ("gitleaks/gitleaks",)
    for s in parsed.signals:
        assert not {"Secret", "Match", "secret", "match", "Author", "Email", "author", "email"} & set(
            s.attributes
        )


def test_gitleaks_simple_report_never_keeps_the_secret():
    parsed = parse("gitleaks", "gitleaks/json_simple.json")
    (s,) = parsed.signals
    assert s.attributes["fingerprint"] == "0000000000000000:auth.py:test-rule:1"  # derived: Fingerprint ""
    assert s.attributes["committed_at"] == "2003-10-19T00:00:00+00:00"  # its MM-DD-YYYY date
    text = json.dumps(s.attributes)
    assert "a secret" not in text and "line containing secret" not in text and "johndoe" not in text
    assert parsed.snapshot and parsed.snapshot.scopes == ("default",)


def test_gitleaks_empty_report_is_a_snapshot_without_findings():
    parsed = parse_body("gitleaks", b"[]", X_CompanyOS_Target="acme/api")
    assert parsed.signals == [] and parsed.snapshot and parsed.snapshot.scopes == ("acme/api",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CRITICAL", "critical"),
        ("High", "high"),
        ("moderate", "medium"),
        ("LOW", "low"),
        ("UNKNOWN", "low"),
        (None, "low"),
    ],
)
def test_severity_is_normalised_to_four_levels(raw, expected):
    assert normalise_severity(raw) == expected
