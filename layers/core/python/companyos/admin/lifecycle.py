"""The end of a version's life: deprecate (with a grace period, consumers warned) and retire (after
the grace period, when active nowhere; its lineage archived on the version)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companyos.admin import catalog, lineage
from companyos.admin.catalog import ENVIRONMENTS, KpiRecord
from companyos.admin.context import Ctx, audit, auth, runtime_env
from companyos.domain.errors import Conflict


def deprecate(
    ctx: Ctx, kpi_id: str, ver: str, grace_days: int, expected_revision: int | None, reason: str
) -> dict[str, Any]:
    role = auth(ctx, "kpi:deploy")

    def change(rec: KpiRecord) -> None:
        meta = rec.version(ver)
        if meta["status"] not in ("approved", "active"):
            raise Conflict(f"{kpi_id} v{ver} is {meta['status']}", code="invalid_transition")
        meta.update(
            status="deprecated",
            deprecated_at=ctx.now.isoformat(),
            retire_after=(ctx.now + timedelta(days=grace_days)).isoformat(),
        )

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    warned = lineage.impact(ctx.tenant_id, kpi_id, "deprecate", runtime_env(ctx.tenant_id))
    audit(
        ctx,
        role,
        "kpi.deprecate",
        f"{kpi_id}@{ver}",
        reason,
        grace_days=grace_days,
        consumers=warned["affected"],
    )
    return {"record": rec.to_dict(), "warned": warned}


def retire(ctx: Ctx, kpi_id: str, ver: str, expected_revision: int | None, reason: str) -> dict[str, Any]:
    role = auth(ctx, "kpi:deploy")
    archived = lineage.lineage(ctx.tenant_id, kpi_id, runtime_env(ctx.tenant_id))

    def change(rec: KpiRecord) -> None:
        meta = rec.version(ver)
        if meta["status"] != "deprecated":
            raise Conflict(f"deprecate {kpi_id} v{ver} before retiring it", code="invalid_transition")
        if ctx.now < datetime.fromisoformat(meta["retire_after"]):
            raise Conflict(
                f"the grace period of {kpi_id} v{ver} runs until {meta['retire_after']}",
                code="grace_period_running",
            )
        live = [e for e in ENVIRONMENTS if rec.active_in(e) == ver]
        if live:
            raise Conflict(f"{kpi_id} v{ver} is still active in {', '.join(live)}", code="still_active")
        meta.update(status="retired", retired_at=ctx.now.isoformat(), archived_lineage=archived)

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    audit(ctx, role, "kpi.retire", f"{kpi_id}@{ver}", reason)
    return rec.to_dict()
