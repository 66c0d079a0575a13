"""Governance: the production change window, the audit trail, its verification and the evidence
bundle."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from companyos.admin import answers as shapes
from companyos.admin import governance
from companyos.api import WRITE_REFUSALS, answers

from .bodies import WindowIn
from .context import Tenant, ctx

router = Router()


@router.get("/api/admin/change-window", responses=answers(model=shapes.ChangeWindowView))
def get_window(tenant: Tenant) -> dict[str, Any]:
    return governance.get_change_window(ctx(router, tenant))


@router.put("/api/admin/change-window", responses=answers(*WRITE_REFUSALS, model=shapes.ChangeWindowView))
def put_window(tenant: Tenant, body: Annotated[WindowIn, Body()]) -> dict[str, Any]:
    return governance.set_change_window(ctx(router, tenant), body.days, body.start, body.end, body.reason)


@router.get("/api/audit", responses=answers(model=shapes.AuditEvents))
def get_audit(tenant: Tenant, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    return governance.audit_events(ctx(router, tenant), limit)


@router.get("/api/audit/verify", responses=answers(model=shapes.AuditVerification))
def get_audit_verify(tenant: Tenant) -> dict[str, Any]:
    return governance.audit_verify(ctx(router, tenant))


@router.get("/api/audit/export", responses=answers(model=shapes.EvidenceBundle))
def get_audit_export(tenant: Tenant) -> dict[str, Any]:
    return governance.evidence_bundle(ctx(router, tenant))
