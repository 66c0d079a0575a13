"""Certificate expiry metrics from Prometheus (issue #16, 6): real samples of x509-certificate-exporter's
`x509_cert_not_after` and cert-manager's `certmanager_certificate_expiration_timestamp_seconds`, as the
Prometheus query API returns them, become inventory certificates with their NotAfter.

Samples (exposition lines; the query API answers the same series as `{"metric", "value"}`):

* cert-manager — cert-manager/cert-manager `pkg/metrics/certificates_test.go` (index snapshot
  e9799a82d69bd32781087aacc695140fcd1b6def), the expected collection of TestUpdateCertificateExpiry; the
  same line is DataDog/integrations-extras `cert_manager/tests/fixtures/cert_manager.txt` (9d295718b6e7).
* cert-manager, a Certificate not issued yet (value 0) — a real scrape in the search index's code
  corpus (`certmanager_certificate_expiration_timestamp_seconds{name="acme-cert2",namespace="default"} 0`,
  repository not named by the index).
* x509-certificate-exporter, a file on a host — a real `curl :9793/metrics` output in a Kubernetes study
  post of the code corpus (index file id 13793897617, repository not named by the index); its labels are
  the exporter's documented schema (enix/x509-certificate-exporter `docs/metrics.md`, 101175a1fe6d:
  `filename`/`filepath` for files, `secret_namespace`/`secret_name`/`secret_key` for Secrets).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from companyos.domain import inventory as inv
from companyos.sources import prom_certs
from companyos.sources.prom_format import parse_response
from companyos.sources.prometheus import PromQuerySpec

CM = "certmanager_certificate_expiration_timestamp_seconds"
CERT_MANAGER = (
    f'{CM}{{name="something",namespace="default"}} 2.208988804e+09\n'
    f'{CM}{{name="acme-cert2",namespace="default"}} 0\n'
)
X509 = (
    'x509_cert_not_after{filename="ca.crt",filepath="/etc/kubernetes/pki/ca.crt",issuer_CN="kubernetes",'
    'serial_number="8646541998922360003",subject_CN="kubernetes"} 2.08462204e+09\n'
)
AT = 1781083800.0  # the evaluation time of the instant query (2026-06-10T09:30:00Z)


def api_vector(exposition: str, extra: dict[str, str] | None = None) -> bytes:
    """What GET /api/v1/query answers for these series: labels + __name__ (+ the scrape's job and
    instance), the value as Prometheus formats a float."""
    result = []
    for line in exposition.strip().splitlines():
        name, labels, value = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line).groups()  # type: ignore[union-attr]
        metric = {"__name__": name, **dict(re.findall(r'(\w+)="([^"]*)"', labels)), **(extra or {})}
        result.append({"metric": metric, "value": [AT, f"{float(value):.17g}"]})
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


def query(metric: str) -> PromQuerySpec:
    return PromQuerySpec(
        id=f"{metric[:20]}_q", metric=metric, kind="cert_expiry", promql=metric, mode="instant"
    )


def test_cert_manager_series_become_certificates_and_not_issued_ones_are_skipped():
    q = query("certmanager_certificate_expiration_timestamp_seconds")
    samples = parse_response(api_vector(CERT_MANAGER, {"job": "cert-manager"})).samples
    certs, skipped = prom_certs.to_certificates(q, samples)
    assert len(certs) == 1
    (c,) = certs
    assert c.common_name == "default/something" and c.locator == "Certificate default/something"
    assert c.not_after == datetime.fromtimestamp(2208988804, UTC) == datetime(2040, 1, 1, 0, 0, 4, tzinfo=UTC)
    assert c.source == "prometheus" and c.cert_id.startswith("prom-")
    assert [(s["series"], s["code"]) for s in skipped] == [("Certificate default/acme-cert2", "no_expiry")]


def test_cert_manager_namespace_is_read_from_exported_namespace_when_prometheus_renamed_it():
    q = query("certmanager_certificate_expiration_timestamp_seconds")
    renamed = CERT_MANAGER.splitlines()[0].replace('namespace="default"', 'exported_namespace="default"')
    body = api_vector(renamed, {"namespace": "cert-manager", "job": "cert-manager"})
    (c,), _ = prom_certs.to_certificates(q, parse_response(body).samples)
    assert c.common_name == "default/something"


def test_x509_exporter_file_series_becomes_a_certificate_with_its_subject_and_path():
    q = query("x509_cert_not_after")
    samples = parse_response(api_vector(X509, {"job": "x509-certificate-exporter"})).samples
    (c,), skipped = prom_certs.to_certificates(q, samples)
    assert skipped == []
    assert (c.common_name, c.issuer, c.locator) == ("kubernetes", "kubernetes", "/etc/kubernetes/pki/ca.crt")
    assert c.not_after == datetime.fromtimestamp(2084622040, UTC)
    # the roll-up's windows on the days before it expires (cumulative)
    doc = inv.posture([], [], [inv.Certificate(**c.model_dump(), updated_at=c.not_after)], [], c.not_after)
    for days_before, expected in ((100, (0, 0, 0)), (60, (0, 0, 1)), (20, (0, 1, 1)), (3, (1, 1, 1))):
        day = (c.not_after - timedelta(days=days_before)).date()
        w = inv.certificate_windows(doc, day)
        assert (w["within_7"], w["within_30"], w["within_90"]) == expected, days_before
    assert inv.certificate_windows(doc, (c.not_after + timedelta(days=1)).date())["expired"] == 1


def test_x509_exporter_secret_series_is_named_by_its_secret():
    """Constructed from the documented label schema (docs/metrics.md): a Kubernetes Secret source."""
    q = query("x509_cert_not_after")
    line = (
        'x509_cert_not_after{issuer_CN="R3",secret_key="tls.crt",secret_name="web-tls",'
        'secret_namespace="shop",serial_number="1",subject_CN="shop.example.com"} 1.7900928e+09'
    )
    (c,), _ = prom_certs.to_certificates(q, parse_response(api_vector(line)).samples)
    assert (c.common_name, c.locator) == ("shop.example.com", "secret shop/web-tls [tls.crt]")


def test_the_same_series_always_gets_the_same_id_and_another_series_another():
    q = query("x509_cert_not_after")
    (a,), _ = prom_certs.to_certificates(q, parse_response(api_vector(X509)).samples)
    (b,), _ = prom_certs.to_certificates(q, parse_response(api_vector(X509)).samples)
    other = X509.replace("8646541998922360003", "1")
    (c,), _ = prom_certs.to_certificates(q, parse_response(api_vector(other)).samples)
    assert a.cert_id == b.cert_id != c.cert_id
    assert len(a.cert_id) <= 64
