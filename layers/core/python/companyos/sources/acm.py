"""AWS Certificate Manager pull connector: a tenant's ACM certificates → its certificate inventory.

Each tenant may have one connector item in the catalog (`AcmConfig`, `CONNECTOR#acm`): the regions to
read and, for a tenant's own AWS account, the read-only role to assume there. A pull lists every
certificate of each region (ListCertificates, all key types) and describes each one
(DescribeCertificate); those with an expiry (`NotAfter`) and status ISSUED or EXPIRED become
inventory certificates (`source: acm`, id `acm-<region>-<certificate id>`, locator = the ARN). The
inventory then holds exactly what ACM holds: new and changed certificates are written, deleted ones
removed, unchanged ones left alone; a region that failed keeps what it had (never wiped by an outage).

A certificate whose description does not have the documented shape is skipped and reported with a
code (`acm_shape`); one failing region is reported (`acm_unavailable` + AWS's error code) and never
stops the other regions or tenants.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from companyos.adapters.acm import AcmUnavailable, describe_certificates
from companyos.adapters.inventory_repo import InventoryRepo
from companyos.adapters.repos import Catalog
from companyos.domain import clock
from companyos.domain.inventory import CertificateIn
from companyos.topology import CERT_READER_ROLE

SOURCE = "acm"
COUNTED = ("ISSUED", "EXPIRED")  # PENDING_VALIDATION / FAILED / REVOKED … are not a live certificate
Describe = Callable[[str, str | None, str | None], Iterator[dict[str, Any]]]


class AcmConfig(BaseModel):
    """A tenant's ACM connector (catalog item `CONNECTOR#acm`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: tuple[str, ...] = Field(min_length=1, max_length=20)
    role_arn: str | None = Field(
        default=None,
        pattern=rf"^arn:aws[a-z-]*:iam::\d{{12}}:role/{CERT_READER_ROLE}$",
        description=f"the read-only role '{CERT_READER_ROLE}' in the tenant's AWS account (the only "
        "role name the function may assume); omitted: this account",
    )
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [r for r in value if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", r)]
        if bad or len(set(value)) != len(value):
            raise ValueError(f"regions must be distinct AWS region names (bad: {bad})")
        return value


class AcmCertificate(BaseModel):
    """The fields of DescribeCertificate's `Certificate` the inventory needs (others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    CertificateArn: str = Field(pattern=r"^arn:aws[a-z-]*:acm:[^:/]+:[^:/]+:certificate/[\w-]+$")
    DomainName: str = Field(min_length=1, max_length=255)
    Status: str
    NotAfter: datetime | None = None
    Issuer: str = ""
    InUseBy: list[str] = Field(default_factory=list)

    @field_validator("NotAfter", mode="before")
    @classmethod
    def _epoch(cls, value: Any) -> Any:
        """boto3 gives a datetime; the raw JSON answer (aws-cli) gives epoch seconds."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        return value


def cert_id(arn: str, region: str) -> str:
    tail = arn.rsplit("/", 1)[-1]
    ident = tail if len(tail) <= 40 else hashlib.sha256(arn.encode()).hexdigest()[:32]
    return f"acm-{region}-{ident}"


def to_certificate(detail: dict[str, Any], region: str) -> CertificateIn | None:
    """One DescribeCertificate `Certificate` as an inventory certificate; None when it is not a live
    certificate (no expiry yet, or a status that is not ISSUED/EXPIRED). Raises ValidationError when
    the object does not have the documented shape."""
    c = AcmCertificate.model_validate(detail)
    if c.Status not in COUNTED or c.NotAfter is None:
        return None
    not_after = clock.utc(c.NotAfter)
    return CertificateIn(
        cert_id=cert_id(c.CertificateArn, region),
        common_name=c.DomainName,
        not_after=not_after.astimezone(UTC),
        issuer=c.Issuer[:200],
        service=f"in use by {len(c.InUseBy)}" if c.InUseBy else "",
        source=SOURCE,
        locator=c.CertificateArn,
    )


def _region(
    region: str, config: AcmConfig, describe: Describe, report: dict[str, Any]
) -> list[CertificateIn]:
    found: list[CertificateIn] = []
    for detail in describe(region, config.role_arn, config.external_id):
        try:
            cert = to_certificate(detail, region)
        except ValidationError as exc:
            arn = str(detail.get("CertificateArn", "?"))[:200]
            report["skipped"].append(
                {"arn": arn, "code": "acm_shape", "message": str(exc.errors()[0]["msg"])}
            )
            continue
        if cert is None:
            report["not_live"] += 1
        else:
            found.append(cert)
    return found


def pull_tenant(
    tenant_id: str, config: AcmConfig, *, describe: Describe = describe_certificates
) -> dict[str, Any]:
    """Pull every region of one tenant once and sync its ACM certificates; never raises for an AWS
    failure (the report says which region failed and why)."""
    report: dict[str, Any] = {"tenant_id": tenant_id, "regions": [], "skipped": [], "not_live": 0}
    found: list[CertificateIn] = []
    failed: list[str] = []
    for region in config.regions:
        try:
            certs = _region(region, config, describe, report)
        except AcmUnavailable as exc:
            failed.append(region)
            report["regions"].append({"region": region, "status": "acm_unavailable", "error": exc.code})
            continue
        found.extend(certs)
        report["regions"].append({"region": region, "status": "ok", "certificates": len(certs)})
    keep = tuple(f"acm-{r}-" for r in failed)
    report.update(InventoryRepo(tenant_id).sync_certificates(SOURCE, found, keep_prefixes=keep))
    report["pulled_at"] = clock.now().isoformat()
    return report


def save_config(tenant_id: str, config: AcmConfig) -> None:
    Catalog().tenant(tenant_id).put_connector(SOURCE, config.model_dump())


def load_config(tenant_id: str) -> AcmConfig | None:
    data = Catalog().tenant(tenant_id).connector(SOURCE)
    return None if data is None else AcmConfig.model_validate(data)


def pull_all(tenant_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Every given tenant that has an ACM connector (one GetItem each)."""
    return [pull_tenant(t, c) for t in tenant_ids if (c := load_config(t)) is not None]
