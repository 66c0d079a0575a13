"""Certificate expiry from Prometheus → the tenant's certificate inventory.

A query of kind `cert_expiry` in a tenant's Prometheus connector returns one series per certificate
whose value is its `NotAfter` as Unix seconds, e.g.

* x509-certificate-exporter: `x509_cert_not_after` (labels `subject_CN`, `issuer_CN`,
  `serial_number`, and `secret_namespace`/`secret_name`/`secret_key` for a Kubernetes Secret or
  `filepath` for a file on a host),
* cert-manager: `certmanager_certificate_expiration_timestamp_seconds` (labels `name`, `namespace` —
  `exported_namespace` when Prometheus kept its own `namespace` — and, in newer versions,
  `issuer_name`/`issuer_kind`). cert-manager reports 0 for a Certificate not issued yet: skipped.

It is evaluated as an instant query at the pull (`now - lag_s`); its series become certificates
(`source: prometheus`, id from the query and the series' labels) and the inventory is synced like
the ACM connector's: a query that failed keeps what it had.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from companyos.adapters.inventory_repo import InventoryRepo
from companyos.domain.inventory import CertificateIn
from companyos.sources.prom_client import PrometheusClient
from companyos.sources.prom_config import PromQuerySpec
from companyos.sources.prom_format import PrometheusError, Sample

SOURCE = "prometheus"
KIND = "cert_expiry"
IGNORED = frozenset({"__name__"})


def _prefix(q: PromQuerySpec) -> str:
    return f"prom-{hashlib.sha256(q.id.encode()).hexdigest()[:6]}-"


def cert_id(q: PromQuerySpec, labels: dict[str, str]) -> str:
    series = json.dumps(sorted((k, v) for k, v in labels.items() if k not in IGNORED), separators=(",", ":"))
    return _prefix(q) + hashlib.sha256(series.encode()).hexdigest()[:20]


def _names(labels: dict[str, str]) -> tuple[str, str, str]:
    """(common name, issuer, where it lives) from the labels of either exporter."""
    if "subject_CN" in labels or "filepath" in labels or "secret_name" in labels:  # x509-certificate-exporter
        where = (
            f"secret {labels.get('secret_namespace', '')}/{labels['secret_name']}"
            + (f" [{labels['secret_key']}]" if labels.get("secret_key") else "")
            if labels.get("secret_name")
            else labels.get("filepath", "")
        )
        name = labels.get("subject_CN") or labels.get("filename") or where
        return name, labels.get("issuer_CN", ""), where
    namespace = labels.get("exported_namespace") or labels.get("namespace", "")  # cert-manager
    name = labels.get("name", "")
    where = f"Certificate {namespace}/{name}" if name else ""
    return (f"{namespace}/{name}" if name else ""), labels.get("issuer_name", ""), where


def to_certificates(
    q: PromQuerySpec, samples: Iterable[Sample]
) -> tuple[list[CertificateIn], list[dict[str, Any]]]:
    """The series of one evaluation as certificates, and the series skipped with why."""
    certs: list[CertificateIn] = []
    skipped: list[dict[str, Any]] = []
    for s in samples:
        name, issuer, where = _names(s.labels)
        if s.value is None or s.value <= 0:  # NaN/Inf, or cert-manager's 0: not issued yet
            skipped.append({"query_id": q.id, "series": where or name, "code": "no_expiry", "value": s.raw})
            continue
        if not name:
            skipped.append({"query_id": q.id, "series": str(s.labels)[:200], "code": "no_name_label"})
            continue
        certs.append(
            CertificateIn(
                cert_id=cert_id(q, s.labels),
                common_name=name[:255],
                not_after=datetime.fromtimestamp(s.value, UTC),
                issuer=issuer[:200],
                service=s.labels.get(q.service_label, "")[:200],
                source=SOURCE,
                locator=where[:500],
            )
        )
    return certs, skipped


def pull_certificates(
    tenant_id: str, queries: Iterable[PromQuerySpec], client: PrometheusClient, at: datetime
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """Evaluate every `cert_expiry` query once at `at` and sync the tenant's Prometheus certificates:
    (one outcome per query, the sync's counts or None without such queries)."""
    found: list[CertificateIn] = []
    failed: list[str] = []
    outcomes: list[dict[str, Any]] = []
    for q in queries:
        try:
            result = client.instant(q.promql, at)
        except PrometheusError as exc:
            failed.append(_prefix(q))
            status = "unavailable" if exc.retryable else "error"
            outcomes.append({"query_id": q.id, "status": status, "error": str(exc)})
            continue
        certs, skipped = to_certificates(q, result.samples)
        found.extend(certs)
        outcomes.append({"query_id": q.id, "status": "ok", "certificates": len(certs), "skipped": skipped})
    if not outcomes:
        return outcomes, None
    return outcomes, InventoryRepo(tenant_id).sync_certificates(SOURCE, found, keep_prefixes=failed)
