"""Tenant-scoped inventory operations behind the API: compliance controls and evidence, certificates,
vendors. Reading needs membership of the tenant; writing needs `admin:write` (tenant_admin or
platform_admin); every write is appended to the tenant's audit chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.inventory_repo import InventoryRepo
from companyos.admin import vendors
from companyos.admin.context import Ctx
from companyos.domain import clock
from companyos.domain import inventory as inv
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import InvalidPayload, NotFound

READ, WRITE = "runs:view", "admin:write"


def _repo(principal: Principal, tenant_id: str, action: str) -> tuple[InventoryRepo, str]:
    role = authorize(principal, action, tenant_id)
    return InventoryRepo(tenant_id), role


def _audit(
    principal: Principal,
    role: str,
    tenant_id: str,
    action: str,
    target: str,
    request_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    AuditTrail(tenant_id).append(
        AuditEvent(
            actor=principal.email or principal.sub,
            role=role,
            action=action,
            target=target,
            reason="inventory change through the API",
            request_id=request_id,
            details=details,
        )
    )


def _framework(framework: str) -> str:
    if framework not in inv.FRAMEWORKS:
        raise InvalidPayload(
            f"framework must be one of {', '.join(inv.FRAMEWORKS)}",
            code="framework_unknown",
            details={"path": "framework"},
        )
    return framework


# ---- controls and evidence


def list_controls(
    principal: Principal, tenant_id: str, framework: str | None, now: datetime | None = None
) -> dict[str, Any]:
    repo, _ = _repo(principal, tenant_id, READ)
    today = (now or clock.now()).date()
    controls = repo.controls(_framework(framework) if framework else None)
    evidence = repo.evidence(_framework(framework) if framework else None)
    doc = inv.posture(controls, evidence, [], [], now or clock.now())
    items = []
    for c, p in zip(controls, doc["controls"], strict=True):
        latest = p["evidence"][-1] if p["evidence"] else None
        items.append(
            {
                **c.model_dump(mode="json"),
                "passing": inv.control_passes(p, today),
                "evidence_count": sum(
                    1 for e in evidence if e.framework == c.framework and e.control_id == c.control_id
                ),
                "latest_evidence": latest,
            }
        )
    return {"tenant": tenant_id, "controls": items, "frameworks": inv.compliance(doc, today)}


def put_control(
    principal: Principal, tenant_id: str, body: inv.ControlIn, request_id: str = ""
) -> dict[str, Any]:
    repo, role = _repo(principal, tenant_id, WRITE)
    control = repo.put_control(body)
    _audit(
        principal,
        role,
        tenant_id,
        "inventory:control_put",
        f"control:{body.framework}/{body.control_id}",
        request_id,
    )
    return control.model_dump(mode="json")


def delete_control(
    principal: Principal, tenant_id: str, framework: str, control_id: str, request_id: str = ""
) -> None:
    repo, role = _repo(principal, tenant_id, WRITE)
    repo.delete_control(_framework(framework), control_id)
    _audit(
        principal,
        role,
        tenant_id,
        "inventory:control_delete",
        f"control:{framework}/{control_id}",
        request_id,
    )


def list_evidence(principal: Principal, tenant_id: str, framework: str, control_id: str) -> dict[str, Any]:
    repo, _ = _repo(principal, tenant_id, READ)
    repo.control(_framework(framework), control_id)
    items = sorted(repo.evidence(framework, control_id), key=lambda e: e.collected_at, reverse=True)
    return {
        "tenant": tenant_id,
        "framework": framework,
        "control_id": control_id,
        "evidence": [e.model_dump(mode="json") for e in items],
    }


def add_evidence(
    principal: Principal,
    tenant_id: str,
    framework: str,
    control_id: str,
    body: inv.EvidenceIn,
    request_id: str = "",
) -> dict[str, Any]:
    repo, role = _repo(principal, tenant_id, WRITE)
    ev = repo.add_evidence(_framework(framework), control_id, body, principal.email or principal.sub)
    _audit(
        principal,
        role,
        tenant_id,
        "inventory:evidence_add",
        f"control:{framework}/{control_id}",
        request_id,
        {"evidence_id": ev.evidence_id, "result": ev.result, "source": ev.source},
    )
    return ev.model_dump(mode="json")


# ---- certificates


def list_certificates(
    principal: Principal, tenant_id: str, within: int | None, status: str | None, now: datetime | None = None
) -> dict[str, Any]:
    repo, _ = _repo(principal, tenant_id, READ)
    if status not in (None, "all", "expiring", "expired"):
        raise InvalidPayload(
            "status must be all, expiring or expired", code="invalid_status", details={"path": "status"}
        )
    now = now or clock.now()
    certs = inv.certificates_in_window(repo.certificates(), within, None if status == "all" else status, now)
    return {
        "tenant": tenant_id,
        "within": within,
        "status": status or "all",
        "certificates": [
            {
                **c.model_dump(mode="json"),
                "days_left": round((inv.utc(c.not_after) - now).total_seconds() / 86400, 1),
            }
            for c in certs
        ],
    }


def put_certificate(
    principal: Principal, tenant_id: str, body: inv.CertificateIn, request_id: str = ""
) -> dict[str, Any]:
    repo, role = _repo(principal, tenant_id, WRITE)
    if body.source != "api":
        raise InvalidPayload(
            f"certificates of source '{body.source}' are kept by its connector (sync), not the API",
            code="source_reserved",
            details={"path": "source"},
        )
    cert = repo.put_certificate(body)
    _audit(principal, role, tenant_id, "inventory:certificate_put", f"certificate:{body.cert_id}", request_id)
    return cert.model_dump(mode="json")


def delete_certificate(principal: Principal, tenant_id: str, cert_id: str, request_id: str = "") -> None:
    repo, role = _repo(principal, tenant_id, WRITE)
    repo.delete_certificate(cert_id)
    _audit(principal, role, tenant_id, "inventory:certificate_delete", f"certificate:{cert_id}", request_id)


# ---- vendors


def list_vendors(principal: Principal, tenant_id: str, now: datetime | None = None) -> dict[str, Any]:
    ctx = Ctx(principal=principal, tenant_id=tenant_id, now=now or clock.now())
    return vendors.list_vendors(ctx)


def put_vendor(
    principal: Principal, tenant_id: str, body: inv.VendorIn, request_id: str = ""
) -> dict[str, Any]:
    """Upsert through the vendor register's write + audit path (`admin.vendors`)."""
    ctx = Ctx(principal=principal, tenant_id=tenant_id, request_id=request_id)
    try:
        return vendors.update_vendor(ctx, body.vendor_id, body, "inventory change through the API")
    except NotFound:
        return vendors.create_vendor(ctx, body, "inventory change through the API")


def delete_vendor(principal: Principal, tenant_id: str, vendor_id: str, request_id: str = "") -> None:
    ctx = Ctx(principal=principal, tenant_id=tenant_id, request_id=request_id)
    vendors.delete_vendor(ctx, vendor_id, "inventory change through the API")
