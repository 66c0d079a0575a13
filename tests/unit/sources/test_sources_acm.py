"""The ACM pull connector (issue #16, 6) against moto's ACM in this process (`mock_aws`): every
certificate of the tenant's account (reached through its read-only role) lands in the certificate
inventory with its NotAfter, the roll-up's 7/30/90-day windows count them, and what ACM no longer has
leaves the inventory; the aws-cli documentation's DescribeCertificate answer parses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.conftest import real_fixture

ACCOUNT = "220000000016"
REGION = "eu-central-1"  # a region no other test's moto state uses
ROLE = f"arn:aws:iam::{ACCOUNT}:role/companyos-certificate-reader"
DAYS = {"api.acme.test": 3, "web.acme.test": 20, "mail.acme.test": 60, "www.acme.test": 200}


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    from infra.local.moto_patches import patch_moto_acm_clock
    from tests.unit.admin.conftest import in_process_aws

    patch_moto_acm_clock()  # moto's ACM on the session's fixed clock (as the local stack runs it)
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from in_process_aws(monkeypatch)


def tenant_acm():
    from infra.local.demo_inventory import tenant_acm as client

    return client(ACCOUNT, REGION)


@pytest.fixture
def imported(aws) -> Iterator[dict[str, str]]:
    from companyos.domain import clock

    from infra.local.demo_inventory import self_signed

    acm = tenant_acm()
    now = clock.now()
    arns = {}
    for host, days in DAYS.items():
        pem, key = self_signed(host, now + timedelta(days=days))
        arns[host] = acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
    yield arns
    for arn in acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]:
        acm.delete_certificate(CertificateArn=arn["CertificateArn"])


def test_the_connector_pulls_every_certificate_with_its_days_to_expiry(imported):
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.domain import clock
    from companyos.domain import inventory as inv
    from companyos.sources import acm

    tenant = "acm-one"
    config = acm.AcmConfig(regions=(REGION,), role_arn=ROLE)
    report = acm.pull_tenant(tenant, config)
    assert report["regions"] == [{"region": REGION, "status": "ok", "certificates": 4}]
    assert (report["found"], report["written"], report["deleted"]) == (4, 4, 0)

    now = clock.now()
    certs = {c.common_name: c for c in InventoryRepo(tenant).certificates()}
    assert set(certs) == set(DAYS)
    for host, days in DAYS.items():  # moto keeps whole seconds of NotAfter
        left = (inv.utc(certs[host].not_after) - now).total_seconds() / 86400
        assert abs(left - days) < 2 / 86400, host
        assert certs[host].source == "acm" and certs[host].locator == imported[host]
        assert certs[host].cert_id == f"acm-{REGION}-{imported[host].rsplit('/', 1)[1]}"
    # the roll-up's windows, counted here by hand from DAYS (cumulative: within_30 includes within_7)
    doc = InventoryRepo(tenant).refresh_posture(now)
    expected = {f"within_{w}": sum(1 for d in DAYS.values() if d < w) for w in (7, 30, 90)}
    assert inv.certificate_windows(doc, now.date()) == {"expired": 0, **expected}
    assert expected == {"within_7": 1, "within_30": 2, "within_90": 3}

    # a second pull changes nothing; a certificate deleted in ACM leaves the inventory
    again = acm.pull_tenant(tenant, config)
    assert (again["written"], again["deleted"]) == (0, 0)
    tenant_acm().delete_certificate(CertificateArn=imported["mail.acme.test"])
    third = acm.pull_tenant(tenant, config)
    assert (third["found"], third["deleted"]) == (3, 1)
    assert "mail.acme.test" not in {c.common_name for c in InventoryRepo(tenant).certificates()}


def test_a_failing_region_is_reported_and_keeps_what_it_had(imported):
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.domain.inventory import CertificateIn
    from companyos.sources import acm

    tenant = "acm-two"
    repo = InventoryRepo(tenant)
    repo.put_certificate(  # a certificate the API keeps is never touched by the connector
        CertificateIn(
            cert_id="manual", common_name="vpn.acme.test", not_after=datetime(2027, 1, 1, tzinfo=UTC)
        )
    )
    acm.pull_tenant(tenant, acm.AcmConfig(regions=(REGION,), role_arn=ROLE))
    assert len(repo.certificates()) == 5

    def unavailable(region, role_arn, external_id):
        from companyos.adapters.acm import AcmUnavailable

        raise AcmUnavailable(region, "AccessDenied", "not authorized to perform sts:AssumeRole")
        yield  # a generator, like the real reader

    report = acm.pull_tenant(tenant, acm.AcmConfig(regions=(REGION,), role_arn=ROLE), describe=unavailable)
    assert report["regions"] == [{"region": REGION, "status": "acm_unavailable", "error": "AccessDenied"}]
    assert report["deleted"] == 0 and len(repo.certificates()) == 5


def test_odd_shapes_are_skipped_with_a_code_and_unissued_ones_are_not_counted(aws):
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.sources import acm

    arn = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0b0b0b0b-1111-2222-3333-44444444444"
    good: dict[str, object] = {
        "CertificateArn": arn + "4",
        "DomainName": "ok.acme.test",
        "Status": "ISSUED",
        "NotAfter": datetime(2026, 7, 1, tzinfo=UTC),
    }
    pending = {**good, "CertificateArn": arn + "5", "Status": "PENDING_VALIDATION"}
    pending.pop("NotAfter")
    odd = {"CertificateArn": "not-an-arn", "DomainName": 42, "Status": "ISSUED", "NotAfter": "soon"}

    def describe(region, role_arn, external_id):
        yield from (good, pending, odd)

    report = acm.pull_tenant("acm-three", acm.AcmConfig(regions=(REGION,)), describe=describe)
    assert report["found"] == 1 and report["not_live"] == 1
    assert [s["code"] for s in report["skipped"]] == ["acm_shape"]
    assert [c.common_name for c in InventoryRepo("acm-three").certificates()] == ["ok.acme.test"]


def test_the_aws_cli_documentation_describe_certificate_answer_parses():
    """aws/aws-cli awscli/examples/acm/describe-certificate.rst (shared/fixtures/real/certs/): the
    JSON block after "Output similar to the following is displayed::"."""
    from companyos.sources import acm

    text = real_fixture("certs/aws-cli-examples-acm-describe-certificate.rst").decode()
    doc = json.loads(text.split("displayed::", 1)[1])
    cert = acm.to_certificate(doc["Certificate"], "us-east-1")
    assert cert is not None
    assert cert.common_name == "www.example.com" and cert.issuer == "Amazon"
    assert cert.not_after == datetime.fromtimestamp(doc["Certificate"]["NotAfter"], UTC)
    assert cert.not_after == datetime(2016, 11, 6, 12, 0, tzinfo=UTC)
    assert cert.cert_id == "acm-us-east-1-12345678-1234-1234-1234-123456789012"
    assert cert.locator == doc["Certificate"]["CertificateArn"]


@pytest.mark.parametrize(
    "config",
    [
        {"regions": []},
        {"regions": ["us-east-1", "us-east-1"]},
        {"regions": ["mars-1"]},
        {"regions": ["us-east-1"], "role_arn": "arn:aws:iam::123456789012:role/Admin"},
        {"regions": ["us-east-1"], "extra": True},
    ],
)
def test_a_connector_config_outside_the_contract_is_refused(config):
    from companyos.sources import acm
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        acm.AcmConfig.model_validate(config)


def test_the_connector_asks_for_every_key_type(aws):
    """AWS's ListCertificates returns only RSA_1024/RSA_2048 certificates unless `Includes.keyTypes`
    names others (moto does not apply that default, so the request itself is checked): the
    connector asks for every key type ACM documents, and finds an EC certificate."""
    from companyos.adapters.acm import describe_certificates
    from companyos.domain import clock

    from infra.local.demo_inventory import self_signed

    # ACM's KeyAlgorithm values (ACM API reference, ListCertificates Filters.keyTypes)
    documented = {f"RSA_{bits}" for bits in (1024, 2048, 3072, 4096)} | {
        f"EC_{curve}" for curve in ("prime256v1", "secp384r1", "secp521r1")
    }
    asked: list[dict] = []
    events = boto3._get_default_session().events  # the session the adapter's clients come from
    hook = "provide-client-params.acm.ListCertificates"
    events.register(hook, lambda params, **_: asked.append(params), unique_id="acm-key-types")
    pem, key = self_signed("ec.acme.test", clock.now() + timedelta(days=10))
    arn = tenant_acm().import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
    try:
        found = [c["CertificateArn"] for c in describe_certificates(REGION, ROLE)]
        assert found == [arn]
        assert set(asked[-1]["Includes"]["keyTypes"]) == documented
    finally:
        events.unregister(hook, unique_id="acm-key-types")
        tenant_acm().delete_certificate(CertificateArn=arn)
