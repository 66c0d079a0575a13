"""Change requests: submitting a draft for approval and publishing a version (dev at once, stg/prod
through a request), each started as an execution of the approval state machine; and what the
machine's Apply / Reject / Expire steps do to the catalog (`apply_request`, `release_request`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from companyos.adapters.aws import aws
from companyos.admin import catalog
from companyos.admin.catalog import KpiRecord
from companyos.admin.context import Ctx, audit, auth
from companyos.admin.guardrails import check_guardrails, check_promotion, known_env, required_approvals
from companyos.admin.runtime import activate
from companyos.domain import clock
from companyos.domain.errors import Conflict, DomainError


def start_request(
    ctx: Ctx, role: str, rec: KpiRecord, ver: str, kind: str, env: str | None, reason: str
) -> dict[str, Any]:
    meta = rec.version(ver)
    if meta.get("pending_request"):
        raise Conflict(
            f"{rec.kpi_id} v{ver} already has a pending change request",
            code="approval_pending",
            details={"request_id": meta["pending_request"]},
        )
    if not ctx.approval_state_machine_arn:
        raise DomainError("the approval workflow is not configured", code="approvals_unavailable")
    request_id = f"cr-{uuid.uuid4().hex[:16]}"
    request = {
        "tenant_id": ctx.tenant_id,
        "request_id": request_id,
        "kind": kind,
        "kpi_id": rec.kpi_id,
        "version": ver,
        "env": env,
        "requested_by": ctx.actor,
        "role": role,
        "author": meta.get("author", ""),
        "criticality": rec.criticality,
        "required_approvals": required_approvals(rec.criticality),
        "reason": reason,
        "api_request_id": ctx.request_id,
    }
    meta["pending_request"] = request_id
    catalog.save(rec)
    arn = aws().sfn.start_execution(
        stateMachineArn=ctx.approval_state_machine_arn, name=request_id, input=json.dumps(request)
    )["executionArn"]
    audit(
        ctx, role, f"change.{kind}.submit", f"{rec.kpi_id}@{ver}", reason, change_request=request_id, env=env
    )
    return {"request_id": request_id, "status": "submitted", "execution_arn": arn, "request": request}


def submit(
    ctx: Ctx, kpi_id: str, ver: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    """Ask for approval of a draft (Draft → Approved once approvers agree)."""
    role = auth(ctx, "kpi:author")
    rec = catalog.require(ctx.tenant_id, kpi_id)
    if expected_revision is not None and rec.revision != expected_revision:
        raise catalog.conflict(rec, ctx.tenant_id, kpi_id)
    if rec.version(ver)["status"] != "draft":
        raise Conflict(f"{kpi_id} v{ver} is not a draft", code="invalid_transition")
    check_guardrails(rec.contract(ver))
    return start_request(ctx, role, rec, ver, "approve", None, reason)


def publish(
    ctx: Ctx, kpi_id: str, ver: str, env: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    """Publish a version to an environment: dev at once, stg/prod through a change request."""
    role = auth(ctx, "kpi:deploy")
    env = known_env(env)
    rec = catalog.require(ctx.tenant_id, kpi_id)
    if expected_revision is not None and rec.revision != expected_revision:
        raise catalog.conflict(rec, ctx.tenant_id, kpi_id)
    check_promotion(rec, ver, env)
    if env != "dev":
        return start_request(ctx, role, rec, ver, "promote", env, reason)
    activate(rec, ver, env)
    audit(ctx, role, "kpi.publish", f"{kpi_id}@{ver}", reason, env=env)
    return {"status": "active", "env": env, "record": rec.to_dict()}


def apply_request(request: dict[str, Any]) -> dict[str, Any]:
    """The approved change (the approval state machine's Apply step)."""
    rec = catalog.require(request["tenant_id"], request["kpi_id"])
    ver, meta = request["version"], rec.version(request["version"])
    approvers = [a["approver"] for a in (request.get("decision") or {}).get("approvals", [])]
    meta.pop("pending_request", None)
    if request["kind"] == "approve":
        meta.update(status="approved", approved_by=approvers, approved_at=clock.now().isoformat())
        catalog.ensure_published(rec.tenant_id, rec.contract(ver))
        catalog.save(rec)
    else:
        activate(rec, ver, request["env"])
    return {
        "kpi_id": rec.kpi_id,
        "version": ver,
        "status": rec.version(ver)["status"],
        "approvers": approvers,
    }


def release_request(request: dict[str, Any]) -> None:
    """A rejected or expired request frees its version for a new one."""
    rec = catalog.load(request["tenant_id"], request["kpi_id"])
    if rec is None or request["version"] not in rec.versions:
        return
    if rec.version(request["version"]).pop("pending_request", None):
        catalog.save(rec)
