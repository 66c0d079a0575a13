"""Certificates pulled into the inventory (issue #16, 6), end to end on the local stack: the `cert_pull`
function against the tenant's ACM (moto, through the tenant's read-only role), and the Prometheus
connector's `cert_expiry` queries against a local HTTP server answering with real metric samples
(see tests/unit/sources/test_prom_certs.py for their sources); the tenant's certificate list and the
roll-up's certificate cells then show them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from companyos.sources import acm
from companyos.sources import prometheus as prom
from companyos.sources.prometheus import PrometheusConfig, PromQuerySpec

from infra.local.fake_prometheus import FakePrometheus, error
from tests.conftest import Running
from tests.unit.sources.test_prom_certs import CERT_MANAGER, X509, api_vector

ACCOUNT = "230000000016"
REGION = "ap-southeast-2"  # no other test's ACM state lives here
DAYS = {"pay.certs.test": 5, "docs.certs.test": 25, "cdn.certs.test": 80, "auth.certs.test": 150}


def tenant(local: Running, tenant_id: str) -> str:
    from companyos.adapters.repos import Catalog, Tenant

    Catalog().put_tenant(Tenant(tenant_id, tenant_id.title(), "prod", True, REGION, "dora-2024", "test"))
    Catalog().put_member(tenant_id, f"cto@{tenant_id}.test", "cto", "cto")
    local.idp.add_user(f"cto@{tenant_id}.test", "CTO", {tenant_id: "cto"})
    return tenant_id


@pytest.fixture
def certificates(local: Running) -> Iterator[dict[str, str]]:
    from companyos.domain import clock

    from infra.local.demo_inventory import self_signed, tenant_acm

    client = tenant_acm(ACCOUNT, REGION)
    arns = {}
    for host, days in DAYS.items():
        pem, key = self_signed(host, clock.now() + timedelta(days=days))
        arns[host] = client.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
    yield arns
    for arn in arns.values():
        client.delete_certificate(CertificateArn=arn)


def test_the_cert_pull_function_pulls_acm_into_the_certificate_list(local: Running, certificates):
    t = tenant(local, "certpull")
    acm.save_config(
        t,
        acm.AcmConfig(
            regions=(REGION,), role_arn=f"arn:aws:iam::{ACCOUNT}:role/companyos-certificate-reader"
        ),
    )
    result = local.stack.invoke("cert_pull", {"tenant_id": t})
    assert result["tenants"] == 1 and result["certificates"] == 4 and result["failures"] == []
    assert local.stack.invoke("cert_pull", {"tenant_id": "no-such-tenant"})["tenants"] == 0

    token = local.client.login(f"cto@{t}.test")
    listed = local.client.request("GET", f"/api/inventory/certificates?tenant={t}&within=30&status=expiring",
                                  token=token).body  # fmt: skip
    expected = sorted((d, h) for h, d in DAYS.items() if d < 30)  # by days left, computed from DAYS
    assert [c["common_name"] for c in listed["certificates"]] == [h for _, h in expected]
    for c in listed["certificates"]:
        assert abs(c["days_left"] - DAYS[c["common_name"]]) <= 0.1
        assert c["source"] == "acm" and c["locator"] == certificates[c["common_name"]]


def test_cert_expiry_queries_sync_the_inventory_and_a_failed_query_keeps_its_certificates(local: Running):
    from companyos.adapters.inventory_repo import InventoryRepo

    t = tenant(local, "promcerts")
    answers = {
        "x509_cert_not_after": api_vector(X509, {"job": "x509"}),
        "certmanager_certificate_expiration_timestamp_seconds": api_vector(CERT_MANAGER, {"job": "cm"}),
    }
    broken: set[str] = set()

    def respond(path: str, params: dict[str, str]) -> tuple[int, bytes, float]:
        if params["query"] in broken:
            return 400, error("bad_data", "parse error"), 0.0
        return 200, answers[params["query"]], 0.0

    server = FakePrometheus(respond).start()
    try:
        queries = tuple(
            PromQuerySpec(id=f"certs_{i}", metric=m, kind="cert_expiry", promql=m, mode="instant")
            for i, m in enumerate(answers)
        )
        cfg = PrometheusConfig(base_url=server.url, queries=queries, lag_s=0)
        now = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
        report = prom.pull_tenant(t, cfg, now=now)
        assert report["signals"] == 0 and report["certificates"]["found"] == 2
        names = sorted(c.common_name for c in InventoryRepo(t).certificates())
        assert names == ["default/something", "kubernetes"]  # acme-cert2 (0) is not issued yet
        assert [q["status"] for q in report["queries"]] == ["ok", "ok"]
        assert report["queries"][1]["skipped"][0]["code"] == "no_expiry"

        broken.add("x509_cert_not_after")
        again = prom.pull_tenant(t, cfg, now=now)
        assert [q["status"] for q in again["queries"]] == ["error", "ok"]
        assert again["certificates"]["deleted"] == 0 and len(InventoryRepo(t).certificates()) == 2
    finally:
        server.stop()


def test_the_api_cannot_write_a_connectors_certificate(local: Running):
    import json

    t = tenant(local, "certapi")
    from companyos.adapters.repos import Catalog

    Catalog().put_member(t, f"admin@{t}.test", "tenant_admin", "admin")
    local.idp.add_user(f"admin@{t}.test", "Admin", {t: "tenant_admin"})
    token = local.client.login(f"admin@{t}.test")
    cert = {"cert_id": "x", "common_name": "x.test", "not_after": "2027-01-01T00:00:00Z", "source": "acm"}
    reply = local.client.request(
        "POST", f"/api/inventory/certificates?tenant={t}", json.dumps(cert).encode(),
        {"Content-Type": "application/json"}, token=token,
    )  # fmt: skip
    assert reply.status == 422 and reply.body["code"] == "source_reserved"
    from companyos.adapters.inventory_repo import InventoryRepo

    assert InventoryRepo(t).certificates() == []
