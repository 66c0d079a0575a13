"""The catalog's reads: search and browse, a KPI's detail, its lineage and a change's impact."""

from __future__ import annotations

from typing import Any

from companyos.admin import catalog, lineage, search
from companyos.admin.context import Ctx, auth, runtime_env
from companyos.admin.guardrails import required_approvals
from companyos.domain.errors import NotFound
from companyos.runs import contracts


def browse(ctx: Ctx, q: str, filters: dict[str, str], limit: int, offset: int) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return search.search(ctx.tenant_id, q, filters, limit, offset, runtime_env(ctx.tenant_id))


def detail(ctx: Ctx, kpi_id: str) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    rec = catalog.load(ctx.tenant_id, kpi_id)
    pauses = [p.to_dict() for p in catalog.pauses(ctx.tenant_id, kpi_id)]
    if rec is None:
        if kpi_id not in contracts.CONTRACTS:
            raise NotFound(f"KPI '{kpi_id}' is not in the catalog", code="kpi_not_found")
        c = contracts.CONTRACTS[kpi_id]
        entry = search.entry_of_builtin(c)
        return {
            **{k: v for k, v in entry.items() if not k.startswith("_")},
            "revision": None,
            "contracts": {c.version: c.to_state()},
            "pauses": pauses,
            "runtime_env": runtime_env(ctx.tenant_id),
        }
    out = rec.to_dict()
    out.update(
        owner_kind="tenant",
        pauses=pauses,
        runtime_env=runtime_env(ctx.tenant_id),
        required_approvals=required_approvals(rec.criticality),
    )
    return out


def kpi_lineage(ctx: Ctx, kpi_id: str) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return lineage.lineage(ctx.tenant_id, kpi_id, runtime_env(ctx.tenant_id))


def kpi_impact(ctx: Ctx, kpi_id: str, change: str, schedule_class: str | None = None) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return lineage.impact(ctx.tenant_id, kpi_id, change, runtime_env(ctx.tenant_id), schedule_class)
