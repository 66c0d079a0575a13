"""Who is calling, on which tenant, in which request (`Ctx`), and what every admin use case does
with it: authorize the action, append one audit event, find the tenant's runtime environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.repos import Catalog
from companyos.admin.catalog import ENVIRONMENTS
from companyos.domain import clock
from companyos.domain.auth import Principal, authorize


@dataclass(frozen=True)
class Ctx:
    """Who is calling, on which tenant, in which request; `now` is injectable for tests."""

    principal: Principal
    tenant_id: str
    request_id: str = ""
    approval_state_machine_arn: str = ""
    now: datetime = field(default_factory=lambda: clock.now())

    @property
    def actor(self) -> str:
        return self.principal.email or self.principal.sub


def auth(ctx: Ctx, action: str) -> str:
    """The caller's role when it may do `action` on the tenant (403 otherwise)."""
    return authorize(ctx.principal, action, ctx.tenant_id)


def audit(
    ctx: Ctx, role: str, action: str, target: str, reason: str = "", approver: str = "", **details: Any
) -> dict[str, Any]:
    return AuditTrail(ctx.tenant_id).append(
        AuditEvent(
            actor=ctx.actor,
            role=role,
            action=action,
            target=target,
            reason=reason,
            request_id=ctx.request_id,
            approver=approver,
            details=details or None,
        )
    )


def runtime_env(tenant_id: str) -> str:
    """The promotion environment whose pointer the tenant's runs use (the tenant's `environment`)."""
    env = Catalog().get_tenant(tenant_id).environment
    return env if env in ENVIRONMENTS else "prod"
