"""Change requests parked on a Step Functions task token (statemachines/approval.asl.json).

1. The admin API starts an execution with the request (admin.change_requests `start_request`).
2. `await_decision` (the AwaitDecision task, `.waitForTaskToken`) stores the request with its task
   token on `APPROVAL#<request id>` and the execution waits.
3. Approvers call `decide` (POST /api/approvals/{id}/decision). 4-eyes: the author or requester cannot
   approve; high-criticality changes need two distinct approvers; prod changes only inside the
   tenant's change window. The deciding call resumes the execution with `send_task_success`.
4. `settle` (the Apply / Reject / Expire tasks) applies the change or releases the version, and
   records the outcome. Every step is audited.
"""

from __future__ import annotations

import json
from typing import Any

from companyos.adapters import admin_store
from companyos.adapters.admin_store import Stored, WriteError
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.aws import aws
from companyos.admin.change_requests import apply_request, release_request
from companyos.admin.context import Ctx, audit, auth
from companyos.admin.guardrails import check_change_window, forbid_self_approval
from companyos.domain import clock
from companyos.domain.errors import Conflict, DomainError, NotFound

OUTCOMES = {"apply": "approved", "reject": "rejected", "expire": "expired"}
PUBLIC = (
    "request_id",
    "kind",
    "kpi_id",
    "version",
    "env",
    "requested_by",
    "role",
    "author",
    "criticality",
    "required_approvals",
    "reason",
    "status",
    "approvals",
    "submitted_at",
    "decided_at",
    "decision",
    "result",
    "error",
)


def _sk(request_id: str) -> str:
    return f"APPROVAL#{request_id}"


def _item(tenant_id: str, request_id: str) -> Stored:
    item = admin_store.get(tenant_id, _sk(request_id), consistent=True)
    if item is None:
        raise NotFound(f"change request '{request_id}' does not exist (yet)", code="approval_not_found")
    return item


def public(data: dict[str, Any]) -> dict[str, Any]:
    """A request as the API shows it: never the task token."""
    return {k: data[k] for k in PUBLIC if k in data}


def await_decision(request: dict[str, Any], task_token: str) -> dict[str, Any]:
    tenant_id, request_id = request["tenant_id"], request["request_id"]
    data = {
        **request,
        "status": "pending",
        "approvals": [],
        "task_token": task_token,
        "submitted_at": clock.now().isoformat(),
    }
    record = AuditTrail(tenant_id).record(
        AuditEvent(
            actor=request.get("requested_by", "unknown"),
            role=request.get("role", ""),
            action="approval.requested",
            target=f"{request.get('kpi_id')}@{request.get('version')}",
            reason=request.get("reason", ""),
            request_id=request.get("api_request_id") or request_id,
            details={
                "change_request": request_id,
                "kind": request.get("kind"),
                "env": request.get("env"),
                "required_approvals": request.get("required_approvals"),
            },
        )
    )
    try:  # the change request and its audit record: one transaction (#17)
        admin_store.put(Stored(tenant_id, _sk(request_id), "approval", data), create=True, audit=record)
    except Conflict:  # a retried await step: keep the first record, refresh its token
        existing = _item(tenant_id, request_id)
        existing.data = {**existing.data, "task_token": task_token}
        admin_store.put(existing, touch=False)
        return {"request_id": request_id, "status": existing.data["status"]}
    return {"request_id": request_id, "status": "pending"}


def list_requests(tenant_id: str, status: str | None) -> list[dict[str, Any]]:
    """The approval queue: one Query of the tenant's change requests (newest first)."""
    items = admin_store.query(tenant_id, "APPROVAL#")
    out = [public(i.data) for i in items if status is None or i.data.get("status") == status]
    return sorted(out, key=lambda r: str(r.get("submitted_at", "")), reverse=True)


def get_request(ctx: Ctx, request_id: str) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return public(_item(ctx.tenant_id, request_id).data)


def queue(ctx: Ctx, status: str | None) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return {"tenant_id": ctx.tenant_id, "requests": list_requests(ctx.tenant_id, status)}


def decide(ctx: Ctx, request_id: str, approve: bool, reason: str) -> dict[str, Any]:
    """One approver's decision. Resumes the execution when the request is decided."""
    role = auth(ctx, "kpi:approve")
    item = _item(ctx.tenant_id, request_id)
    data = dict(item.data)
    if data.get("status") != "pending":
        raise Conflict(f"change request {request_id} is {data.get('status')}", code="approval_closed")
    if not data.get("task_token"):
        raise Conflict(
            f"change request {request_id} is not waiting for a decision yet", code="approval_not_ready"
        )
    forbid_self_approval(ctx.actor, data)
    approvals = list(data.get("approvals") or [])
    if any(a["approver"] == ctx.actor for a in approvals):
        raise Conflict(
            f"{ctx.actor} already approved {request_id}; a second approver must be someone else",
            code="duplicate_approver",
        )
    entry = {"approver": ctx.actor, "role": role, "at": ctx.now.isoformat(), "reason": reason}
    decided = not approve or len(approvals) + 1 >= int(data.get("required_approvals", 1))
    if approve and decided and data.get("kind") == "promote":
        check_change_window(ctx.tenant_id, str(data.get("env")), ctx.now)
    if approve:
        approvals.append(entry)
    data.update(approvals=approvals, status="deciding" if decided else "pending")
    if not approve:
        data["rejected_by"] = entry
    item.data = data
    try:  # the version guards it: two approvers deciding at once cannot both resume the execution
        admin_store.put(item, touch=False)
    except (Conflict, *WriteError) as exc:
        raise Conflict(
            f"change request {request_id} changed concurrently; retry", code="version_conflict"
        ) from exc
    outcome = ("approved" if approve else "rejected") if decided else "pending"
    audit(
        ctx,
        role,
        "approval.approve" if approve else "approval.reject",
        f"{data['kpi_id']}@{data['version']}",
        reason,
        approver=ctx.actor,
        change_request=request_id,
        outcome=outcome,
        approvals=len(approvals),
        required=data.get("required_approvals"),
    )
    if decided:
        output = {"outcome": outcome, "approvals": approvals, "decided_by": ctx.actor, "reason": reason}
        aws().sfn.send_task_success(taskToken=data["task_token"], output=json.dumps(output))
    return {
        "request_id": request_id,
        "status": outcome,
        "approvals": len(approvals),
        "required_approvals": data.get("required_approvals"),
    }


def settle(step: str, request: dict[str, Any]) -> dict[str, Any]:
    """Record the final outcome of a request (apply / reject / expire); apply performs the change."""
    tenant_id, request_id = request["tenant_id"], request["request_id"]
    outcome = OUTCOMES[step]
    decision = request.get("decision") or {}
    result: dict[str, Any] = {}
    error = None
    try:
        if step == "apply":
            result = apply_request(request)
        else:
            release_request(request)
    except DomainError as exc:  # e.g. the version changed meanwhile: record why, do not crash the workflow
        outcome, error = "failed", exc.to_body()
        release_request(request)
    item = _item(tenant_id, request_id)
    data = {k: v for k, v in item.data.items() if k != "task_token"}
    item.data = {
        **data,
        "status": outcome,
        "decided_at": clock.now().isoformat(),
        "decision": decision,
        "result": result,
        "error": error,
    }
    approvers = [a["approver"] for a in decision.get("approvals", [])]
    record = AuditTrail(tenant_id).record(
        AuditEvent(
            actor=str(decision.get("decided_by", "system")),
            role="approval_workflow",
            action=f"change.{request.get('kind', 'change')}.{outcome}",
            target=f"{request.get('kpi_id')}@{request.get('version')}",
            reason=str(decision.get("reason", "")),
            request_id=request.get("api_request_id") or request_id,
            approver=",".join(approvers),
            details={
                "change_request": request_id,
                "env": request.get("env"),
                "result": result,
                "error": error,
            },
        )
    )
    admin_store.put(item, audit=record)  # the outcome and its audit record: one transaction (#17)
    return {"tenant_id": tenant_id, "request_id": request_id, "outcome": outcome, "result": result}
