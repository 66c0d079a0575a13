"""Approval requests parked on a Step Functions task token (approval.asl.json).

`await_decision` records the request with its task token; approvers' decisions (issue #9's API)
resume the execution with `send_task_success`; `settle` records the outcome. Every step is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from companyos.store.audit import AuditEvent, AuditTrail
from companyos.store.models import CatalogItem

OUTCOMES = {"apply": "approved", "reject": "rejected", "expire": "expired"}


def _item(tenant_id: str, request_id: str) -> CatalogItem:
    return CatalogItem.get(f"TENANT#{tenant_id}", f"APPROVAL#{request_id}")


def await_decision(request: dict[str, Any], task_token: str) -> dict[str, Any]:
    tenant_id, request_id = request["tenant_id"], request["request_id"]
    CatalogItem(
        pk=f"TENANT#{tenant_id}",
        sk=f"APPROVAL#{request_id}",
        kind="approval",
        data={
            **request,
            "status": "pending",
            "task_token": task_token,
            "submitted_at": datetime.now(UTC).isoformat(),
        },
        updated_at=datetime.now(UTC),
    ).save(condition=CatalogItem.pk.does_not_exist())
    AuditTrail(tenant_id).append(
        AuditEvent(
            actor=request.get("requested_by", "unknown"),
            role=request.get("role", ""),
            action="approval.requested",
            target=request_id,
            reason=request.get("reason", ""),
            request_id=request_id,
        )
    )
    return {"request_id": request_id, "status": "pending"}


def settle(step: str, request: dict[str, Any]) -> dict[str, Any]:
    """Record the final outcome of a request (apply / reject / expire)."""
    tenant_id, request_id = request["tenant_id"], request["request_id"]
    outcome = OUTCOMES[step]
    decision = request.get("decision") or {}
    item = _item(tenant_id, request_id)
    data = {k: v for k, v in item.data.items() if k != "task_token"}
    item.data = {**data, "status": outcome, "decided_at": datetime.now(UTC).isoformat(), "decision": decision}
    item.updated_at = datetime.now(UTC)
    item.save()  # VersionAttribute: a concurrent change makes this fail rather than lose an update
    AuditTrail(tenant_id).append(
        AuditEvent(
            actor=str(decision.get("approver", "system")),
            role=str(decision.get("role", "")),
            action=f"approval.{outcome}",
            target=request_id,
            reason=str(decision.get("reason", "")),
            request_id=request_id,
            approver=str(decision.get("approver", "")),
        )
    )
    return {"tenant_id": tenant_id, "request_id": request_id, "outcome": outcome}
