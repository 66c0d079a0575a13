"""Helpers of the roll-up integration tests: tenants, users with memberships, synthetic snapshots."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import Reply, Running


def get(local: Running, path: str, token: str) -> Reply:
    return local.client.request("GET", path, token=token)


def post(local: Running, path: str, body: dict[str, Any], token: str) -> Reply:
    return local.client.request(
        "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"}, token=token
    )


def add_tenant(tenant_id: str, name: str, *, active: bool = True, region: str = "us-east-1") -> None:
    from companyos.adapters.repos import Catalog, Tenant

    Catalog().put_tenant(Tenant(tenant_id, name, "prod", active, region, "dora-2024", "rollup-test"))


def user(local: Running, email: str, memberships: dict[str, str]) -> str:
    """A user with these memberships (catalog + local IdP); returns a signed-in token."""
    from companyos.adapters.repos import Catalog

    for tenant_id, role in memberships.items():
        Catalog().put_member(tenant_id, email, role, email)
    local.idp.add_user(email, email, memberships)
    return local.client.login(email)


def snapshot_for(tenant_id: str, cfr: float, now: datetime) -> dict[str, Any]:
    """A 28d KPI snapshot carrying one KPI (change failure rate), shaped like score refresh's."""
    series = [{"t": (now.date() - timedelta(days=i)).isoformat(), "v": cfr} for i in range(27, -1, -1)]
    entry = {
        "value": cfr,
        "previous": cfr + 1.0,
        "series": series,
        "status": "warning",
        "score": 100 - cfr,
        "display": f"{cfr:g}%",
    }
    return {"tenant": {"id": tenant_id}, "period": "28d", "kpis": {"change_failure_rate": entry}}


def bulk_tenants(prefix: str, count: int, now: datetime) -> list[str]:
    """`count` active tenants, each with a 28d KPI snapshot and an (empty) inventory snapshot."""
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.adapters.repos import ScoreStore

    ids = [f"{prefix}-{i:02d}" for i in range(count)]
    for i, tenant_id in enumerate(ids):
        add_tenant(tenant_id, f"{prefix.upper()} {i:02d}")
        ScoreStore(tenant_id).put_snapshot("28d", snapshot_for(tenant_id, float(i % 17), now), now)
        InventoryRepo(tenant_id).refresh_posture(now)
    return ids
