"""Governance settings and evidence: the tenant's production change window, the audit trail and
its verification, and the evidence bundle auditors export."""

from __future__ import annotations

from typing import Any

from companyos.adapters.audit import AuditTrail
from companyos.adapters.audit_verify import evidence_bundle as bundle
from companyos.admin import approvals, catalog
from companyos.admin.catalog import ChangeWindow
from companyos.admin.context import Ctx, audit, auth
from companyos.domain.errors import InvalidPayload


def get_change_window(ctx: Ctx) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    w = catalog.change_window(ctx.tenant_id)
    return {**w.to_dict(), "open_now": w.is_open(ctx.now), "next_open": w.next_open(ctx.now)}


def set_change_window(ctx: Ctx, days: list[int], start: str, end: str, reason: str) -> dict[str, Any]:
    role = auth(ctx, "admin:write")
    if any(d not in range(7) for d in days):
        raise InvalidPayload(
            "days are 0 (Monday) … 6 (Sunday)", code="invalid_window", details={"path": "days"}
        )
    if not reason.strip():
        raise InvalidPayload(
            "a change-window change needs a reason (it is audited)",
            code="reason_required",
            details={"path": "reason"},
        )
    if end != "24:00" and end <= start:
        raise InvalidPayload(
            f"the window must end after it starts ({start} … {end} UTC)",
            code="invalid_window",
            details={"path": "end"},
        )
    window = ChangeWindow(days=tuple(sorted(set(days))), start=start, end=end)
    catalog.put_change_window(ctx.tenant_id, window)
    audit(ctx, role, "settings.change_window", ctx.tenant_id, reason, window=window.to_dict())
    return get_change_window(ctx)


def audit_events(ctx: Ctx, limit: int) -> dict[str, Any]:
    auth(ctx, "audit:view")
    return {
        "tenant_id": ctx.tenant_id,
        # sealed events newest first, after the records pending sealing (`pending: true`, no seq)
        "events": AuditTrail(ctx.tenant_id).events(limit=limit, newest_first=True),
    }


def audit_verify(ctx: Ctx) -> dict[str, Any]:
    auth(ctx, "audit:view")
    return {"tenant_id": ctx.tenant_id, **AuditTrail(ctx.tenant_id).verify().to_dict()}


def evidence_bundle(ctx: Ctx) -> dict[str, Any]:
    """Audit chain, signed digests, verification, change requests and the catalog records, with checksums.
    The export itself is audited (after the bundle was cut, so it is the next event)."""
    role = auth(ctx, "audit:export")
    extra = {
        "approvals.json": approvals.list_requests(ctx.tenant_id, None),
        "catalog.json": [r.to_dict() for r in catalog.records(ctx.tenant_id)],
    }
    out = bundle(AuditTrail(ctx.tenant_id), extra, generated_by=ctx.actor)
    audit(ctx, role, "audit.export", ctx.tenant_id, "evidence bundle", manifest_sha256=out["manifest_sha256"])
    return out
