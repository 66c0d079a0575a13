"""How every demo delivery arrives: signed with the tool's own scheme and handed to
`companyos.ingest.ingest()` (the webhook function's logic), counted per source when stored."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from companyos.domain import clock
from companyos.ingest import ingest, secrets_from_value
from companyos.sources.base import WebhookRequest, hmac_sha256_hex
from companyos.sources.stripe import signature as stripe_signature

if TYPE_CHECKING:
    from infra.local.stack import LocalStack


def ts(at: datetime) -> str:
    """A UTC timestamp the way GitHub and PagerDuty write one: `2026-06-10T09:30:00Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Deliverer:
    """Signs a body the way the tool does and hands it to `ingest()`; counts what was stored."""

    def __init__(self, stack: LocalStack, tenant_id: str, secrets: dict[str, str]) -> None:
        assert stack.settings
        sm, prefix = boto3.client("secretsmanager"), stack.settings.webhook_secret_prefix
        self.tenant_id = tenant_id
        self.counts: dict[str, int] = {}
        cache: dict[tuple[str, str], list[str]] = {}

        def lookup(tenant: str, source: str) -> list[str]:  # cached like the function's (max_age)
            if (tenant, source) not in cache:
                raw = sm.get_secret_value(SecretId=f"{prefix}/{tenant}/{source}")["SecretString"]
                cache[(tenant, source)] = secrets_from_value(raw)
            return cache[(tenant, source)]

        self.lookup, self.secrets = lookup, secrets
        self.sends = 0

    def send(
        self, source: str, doc: Any, headers: dict[str, str] | None = None, *, gzipped: bool = False
    ) -> None:
        # a JSON document, or (bytes) an export in the tool's own format, e.g. a CSV
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if gzipped:
            body = gzip.compress(body, mtime=0)
            hdrs["content-encoding"] = "gzip"
        self.send_raw(source, body, hdrs)

    def send_raw(self, source: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        """A body as sent (e.g. a CSV upload), signed with the tool's scheme."""
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        secret = self.secrets[source]
        if source == "github":
            hdrs["x-hub-signature-256"] = "sha256=" + hmac_sha256_hex(secret, body)
        elif source == "pagerduty":  # PagerDuty may send several v1= (rotation); one is enough here
            hdrs["x-pagerduty-signature"] = "v1=" + hmac_sha256_hex(secret, body)
        elif source == "opa":
            hdrs["authorization"] = f"Bearer {secret}"  # OPA's services[].credentials.bearer
        elif source == "stripe":  # signed when sent (a resent event too): t is the session clock's now
            t = int(clock.now().timestamp())
            hdrs["stripe-signature"] = f"t={t},v1={stripe_signature(secret, t, body)}"
        elif source in ("okta", "auth0"):  # the event hook's / log stream's Authorization value
            hdrs["authorization"] = secret
        elif source in ("cloudtrail", "guardduty"):  # an EventBridge connection's API key header
            hdrs["x-companyos-key"] = secret
        elif source == "aws_waf":  # the Firehose HTTP endpoint's access key
            hdrs["x-amz-firehose-access-key"] = secret
        else:
            hdrs["x-companyos-signature"] = "sha256=" + hmac_sha256_hex(secret, body)
        result = ingest(
            self.tenant_id,
            source,
            WebhookRequest(hdrs, body),
            max_bytes=1_000_000,
            secrets=self.lookup,
            start_run=lambda *_: None,  # the seed runs every KPI once at the end
        )
        if result.status == "stored":
            self.counts[source] = self.counts.get(source, 0) + 1
