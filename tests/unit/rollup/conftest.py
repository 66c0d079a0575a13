"""Builders for the roll-up's pure functions: tenants, KPI snapshot entries, inventory postures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from companyos.adapters.repos import Tenant
from companyos.domain import inventory as inv
from companyos.rollup.domains import Period, TenantData

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def tenant(
    tenant_id: str, name: str | None = None, *, active: bool = True, region: str = "us-east-1"
) -> Tenant:
    return Tenant(tenant_id, name or tenant_id.title(), "prod", active, region, "dora-2024", "unit")


def period(key: str = "28d", days: int = 28, end: date = TODAY) -> Period:
    return Period(key, key if key != "custom" else "28d", days, end - timedelta(days=days - 1), end)


def entry(
    value: float | None, previous: float | None = None, score: float | None = None, **extra: Any
) -> dict[str, Any]:
    series = [{"t": (TODAY - timedelta(days=i)).isoformat(), "v": value} for i in range(27, -1, -1)]
    return {
        "value": value,
        "previous": previous,
        "series": series,
        "status": extra.pop("status", "healthy" if value is not None else "unknown"),
        "score": score,
        "reason": extra.pop("reason", None if value is not None else "no data"),
        **extra,
    }


def snapshot(**kpis: dict[str, Any]) -> dict[str, Any]:
    return {"kpis": kpis}


def posture(
    controls: list[tuple[str, str, date, list[tuple[datetime, str]]]] = (),  # type: ignore[assignment]
    certs: list[tuple[str, datetime]] = (),  # type: ignore[assignment]
    vendors: list[tuple[str, int, date | None]] = (),  # type: ignore[assignment]
    vendors_added: datetime | None = None,
) -> dict[str, Any]:
    """controls: (framework, id, in scope since, [(collected_at, result)]); certs: (id, not_after);
    vendors: (name, tier, last review), in the register since `vendors_added` (400 days ago)."""
    c_models, e_models = [], []
    for fw, cid, since, evidence in controls:
        c_models.append(
            inv.Control(framework=fw, control_id=cid, title=cid, in_scope_since=since, created_at=NOW)
        )
        for i, (at, result) in enumerate(evidence):
            e_models.append(
                inv.Evidence(
                    result=result,
                    collected_at=at,
                    source="unit",
                    evidence_id=f"{cid}-{i}",
                    framework=fw,
                    control_id=cid,
                    recorded_by="unit",
                    recorded_at=NOW,
                )
            )
    cert_models = [
        inv.Certificate(cert_id=i, common_name=f"{i}.test", not_after=na, updated_at=NOW) for i, na in certs
    ]
    vendor_models = [
        inv.Vendor(
            vendor_id=n.lower(),
            name=n,
            tier=t,
            last_review=r,
            updated_at=NOW,
            created_at=vendors_added or NOW - timedelta(days=400),
        )
        for n, t, r in vendors
    ]
    return inv.posture(c_models, e_models, cert_models, vendor_models, NOW)


def row(t: Tenant, snap: dict[str, Any] | None = None, post: dict[str, Any] | None = None) -> TenantData:
    return TenantData(
        tenant=t,
        snapshot=snap,
        snapshot_at=NOW if snap is not None else None,
        snapshot_day=TODAY.isoformat() if snap is not None else None,
        posture=post,
        posture_at=NOW if post is not None else None,
    )


@pytest.fixture
def now() -> datetime:
    return NOW
