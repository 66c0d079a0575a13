"""Signed NPS deliveries through the local front door and what they stored (the ingest replay and
fault-injection tests share them)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Running


def post_nps(local: Running, tenant_id: str, secret: str, body: bytes, delivery: str) -> Any:
    """POST /api/ingest/nps signed with `secret`, as the sender's delivery `delivery`."""
    from companyos.sources.base import hmac_sha256_hex

    headers = {
        "Content-Type": "application/json",
        "X-CompanyOS-Signature": "sha256=" + hmac_sha256_hex(secret, body),
        "X-CompanyOS-Delivery": delivery,
    }
    return local.client.request("POST", f"/api/ingest/nps?tenant={tenant_id}", body, headers)


def nps_stored(tenant_id: str, delivery_id: str) -> list[Any]:
    """The NPS responses stored from one delivery."""
    from datetime import UTC, datetime

    from companyos.adapters.repos import SignalStore

    found = SignalStore(tenant_id).query(
        "nps_response", datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    return [s for s in found if s.delivery_id == delivery_id]
