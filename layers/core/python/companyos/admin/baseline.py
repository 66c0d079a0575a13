"""The platform's built-in KPIs as a tenant's baseline: a new version's lifecycle metadata, and the
tenant's own record of a built-in KPI (adopted on its first change or control)."""

from __future__ import annotations

from typing import Any

from companyos.admin import catalog
from companyos.admin.catalog import ENVIRONMENTS, KpiRecord
from companyos.admin.context import Ctx, audit, auth
from companyos.domain.errors import NotFound
from companyos.runs import contracts
from companyos.runs.contracts import Contract


def builtin(kpi_id: str) -> Contract | None:
    return contracts.CONTRACTS.get(kpi_id)


def new_version_meta(ctx: Ctx, contract: Contract, based_on: str | None, change: str) -> dict[str, Any]:
    return {
        "status": "draft",
        "author": ctx.actor,
        "created_at": ctx.now.isoformat(),
        "based_on": based_on,
        "change": change,
        "envs_reached": [],
        "approved_by": [],
        "contract": contract.to_state(),
    }


def adopt_builtin(ctx: Ctx, kpi_id: str) -> KpiRecord:
    """Give the tenant its own record of a built-in KPI (its version, approved and live everywhere),
    so tenant-level controls (pause) have a pointer to act on."""
    base = builtin(kpi_id)
    if base is None:
        raise NotFound(f"KPI '{kpi_id}' is not in the catalog", code="kpi_not_found")
    copy = base.model_copy(update={"tenant_id": ctx.tenant_id})
    rec = KpiRecord(
        ctx.tenant_id,
        kpi_id,
        {"pack": "health-contracts", "owner": "platform", "criticality": "high", "name": base.name},
    )
    meta = new_version_meta(ctx, copy, None, "adopted from the built-in pack")
    meta.update(status="active", approved_by=["platform"], envs_reached=list(ENVIRONMENTS))
    rec.versions[copy.version] = meta
    for env in ENVIRONMENTS:
        rec.envs[env]["active"] = copy.version
    catalog.save(rec, create=True)
    audit(
        ctx,
        auth(ctx, "kpi:author"),
        "kpi.adopt",
        f"{kpi_id}@{copy.version}",
        "tenant copy of the built-in contract",
    )
    return rec
