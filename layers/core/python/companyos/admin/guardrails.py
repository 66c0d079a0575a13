"""The rules a change must pass before it ships: an active SLA and validation rules, the promotion
order dev → stg → prod, the production change window, 4-eyes approval."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.admin import catalog
from companyos.admin.catalog import ENVIRONMENTS, KpiRecord
from companyos.domain.errors import Conflict, DomainError, Forbidden, InvalidPayload
from companyos.runs.contracts import Contract


class GuardrailViolation(DomainError):
    status = 422
    code = "guardrail_violation"


class ChangeWindowClosed(DomainError):
    status = 409
    code = "change_window_closed"


def required_approvals(criticality: str) -> int:
    return 2 if criticality == "high" else 1


def check_guardrails(contract: Contract) -> None:
    if contract.sla.max_duration_s <= 0:
        raise GuardrailViolation(
            f"{contract.kpi_id} v{contract.version} has no active SLA (max_duration_s must be > 0)",
            code="guardrail_sla_missing",
        )
    if not contract.pre_rules or not contract.post_rules:
        raise GuardrailViolation(
            f"{contract.kpi_id} v{contract.version} needs pre- and post-validation rules before it ships",
            code="guardrail_validation_missing",
            details={"pre_rules": len(contract.pre_rules), "post_rules": len(contract.post_rules)},
        )


def check_change_window(tenant_id: str, env: str, now: datetime) -> None:
    if env != "prod":
        return
    window = catalog.change_window(tenant_id)
    if not window.is_open(now):
        raise ChangeWindowClosed(
            f"production changes are only allowed inside the change window of '{tenant_id}'",
            details={"window": window.to_dict(), "now": now.isoformat(), "next_open": window.next_open(now)},
        )


def check_promotion(rec: KpiRecord, ver: str, env: str) -> None:
    meta = rec.version(ver)
    if meta["status"] not in ("approved", "active"):
        raise Conflict(
            f"{rec.kpi_id} v{ver} is {meta['status']}: only approved versions ship", code="invalid_transition"
        )
    if rec.active_in(env) == ver:
        raise Conflict(f"{rec.kpi_id} v{ver} is already active in {env}", code="already_active")
    i = ENVIRONMENTS.index(env)
    if i and ENVIRONMENTS[i - 1] not in meta.get("envs_reached", []):
        raise Conflict(
            f"promote {rec.kpi_id} v{ver} to {ENVIRONMENTS[i - 1]} before {env} (dev → stg → prod)",
            code="promotion_out_of_order",
        )
    check_guardrails(rec.contract(ver))


def known_env(env: str) -> str:
    if env not in ENVIRONMENTS:
        raise InvalidPayload(
            f"unknown environment '{env}'", code="unknown_environment", details={"path": "env"}
        )
    return env


def forbid_self_approval(approver: str, request: dict[str, Any]) -> None:
    if approver in (request.get("requested_by"), request.get("author")):
        raise Forbidden(
            "the author or requester of a change cannot approve it (4-eyes)", code="author_cannot_approve"
        )
