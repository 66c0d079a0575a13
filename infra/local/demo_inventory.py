"""Demo certificates and vendor registers, through their real paths.

* Certificates: each demo tenant's AWS account is a moto account of its own (reached, as in AWS,
  through the tenant's read-only role `companyos-certificate-reader`); its certificates are imported
  into ACM there (self-signed, expiring a set number of days from now), the tenant's ACM connector is
  configured, and the `cert_pull` function pulls them into the certificate inventory.
* Vendors: each tenant's admin imports the vendor register as CSV through the admin API
  (`POST /api/admin/vendors/import`, the admin_api handler with the admin's authorizer claims).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from companyos.domain.auth import MEMBERSHIPS_CLAIM
from companyos.sources import acm
from companyos.topology import CERT_READER_ROLE
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infra.local.demo_tenants import PLATFORM_ADMIN
from infra.local.http import proxy_event

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant
    from infra.local.stack import LocalStack

# per tenant: its AWS account (moto), and (host, days until NotAfter) of its certificates
CERTIFICATES: dict[str, tuple[str, tuple[tuple[str, float], ...]]] = {
    "northwind": (
        "210000000001",
        (
            ("api.northwind.demo", 3.5),
            ("web.northwind.demo", 20),
            ("ingest.northwind.demo", 45),
            ("gateway.northwind.demo", 75),
            ("*.northwind.demo", 200),
        ),
    ),
    "globex": (
        "210000000002",
        (
            ("portal.globex.demo", 2),
            ("sso.globex.demo", 12),
            ("reports.globex.demo", 28),
            ("mail.globex.demo", 88),
            ("www.globex.demo", 300),
        ),
    ),
}

Row = tuple[str, str, int, str, int | None, int, str]
# per tenant: who imports (email, role), and the register's rows (last review: days before now)
VENDORS: dict[str, tuple[tuple[str, str], tuple[Row, ...]]] = {
    "northwind": (
        (PLATFORM_ADMIN[0], "platform_admin"),  # Northwind has no tenant admin
        (
            ("aws", "Amazon Web Services", 1, "cto@northwind.demo", 200, 365, "active"),
            ("pagerduty", "PagerDuty", 1, "ops@northwind.demo", 400, 365, "active"),
            ("datadog", "Datadog", 1, "ops@northwind.demo", 120, 90, "active"),
            ("github", "GitHub", 2, "cto@northwind.demo", 30, 365, "active"),
            ("slack", "Slack", 3, "ceo@northwind.demo", None, 365, "active"),
            ("legacy-cdn", "Legacy CDN", 1, "", 900, 365, "offboarded"),
        ),
    ),
    "globex": (
        ("admin@globex.demo", "tenant_admin"),
        (
            ("okta", "Okta", 1, "ciso@globex.demo", None, 365, "onboarding"),
            ("stripe", "Stripe", 1, "cfo@globex.demo", 30, 180, "active"),
            ("snowflake", "Snowflake", 1, "admin@globex.demo", 200, 180, "active"),
            ("workday", "Workday", 2, "admin2@globex.demo", 500, 365, "active"),
            ("zoom", "Zoom", 3, "", 50, 365, "active"),
        ),
    ),
}


def self_signed(host: str, not_after: datetime) -> tuple[bytes, bytes]:
    """A self-signed certificate for `host` (PEM) valid until `not_after`, and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=397))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def tenant_acm(account: str, region: str) -> Any:
    """An ACM client in the tenant's account, through its read-only role (as the connector reaches it)."""
    role = f"arn:aws:iam::{account}:role/{CERT_READER_ROLE}"
    creds = boto3.client("sts", region_name=region).assume_role(RoleArn=role, RoleSessionName="demo-seed")
    c = creds["Credentials"]
    return boto3.client(
        "acm",
        region_name=region,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )


def import_certificates(
    account: str, region: str, certs: tuple[tuple[str, float], ...], now: datetime
) -> int:
    client = tenant_acm(account, region)
    for host, days in certs:
        pem, key = self_signed(host, now.astimezone(UTC) + timedelta(days=days))
        client.import_certificate(Certificate=pem, PrivateKey=key, Tags=[{"Key": "demo", "Value": "true"}])
    return len(certs)


def vendor_csv(rows: tuple[Row, ...], now: datetime) -> bytes:
    lines = ["vendor_id,name,tier,owner,last_review,review_interval_days,status"]
    for vid, name, tier, owner, ago, cadence, status in rows:
        last = (now.date() - timedelta(days=ago)).isoformat() if ago is not None else ""
        lines.append(f"{vid},{name},{tier},{owner},{last},{cadence},{status}")
    return ("\n".join(lines) + "\n").encode()


def import_vendors(stack: LocalStack, tenant_id: str, admin: tuple[str, str], body: bytes) -> dict[str, Any]:
    """POST /api/admin/vendors/import as the admin (the front door's event, the admin_api handler)."""
    email, role = admin
    claims = {"sub": f"local-{email}", "email": email, MEMBERSHIPS_CLAIM: json.dumps({tenant_id: role})}
    event = proxy_event(
        "POST",
        "/api/admin/vendors/import",
        f"tenant={tenant_id}&reason=demo+vendor+register",
        {"Content-Type": "text/csv"},
        body,
        claims,
    )
    reply = stack.invoke_api("admin_api", event)
    if reply["statusCode"] != 200:
        raise RuntimeError(f"vendor import for {tenant_id} answered {reply['statusCode']}: {reply['body']}")
    return dict(json.loads(reply["body"]))


def seed(stack: LocalStack, demo: DemoTenant, now: datetime) -> dict[str, Any]:
    tenant_id, region = demo.tenant.id, demo.tenant.home_region
    account, certs = CERTIFICATES[tenant_id]
    imported = import_certificates(account, region, certs, now)
    acm.save_config(
        tenant_id,
        acm.AcmConfig(regions=(region,), role_arn=f"arn:aws:iam::{account}:role/{CERT_READER_ROLE}"),
    )
    pulled = stack.invoke("cert_pull", {"tenant_id": tenant_id})
    admin, rows = VENDORS[tenant_id]
    vendors = import_vendors(stack, tenant_id, admin, vendor_csv(rows, now))
    return {"acm_imported": imported, "acm_pulled": pulled["certificates"], "vendors": vendors["imported"]}
