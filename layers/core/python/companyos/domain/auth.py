"""RBAC for the cockpit: roles per tenant (from the token), personas per role, one decision point.

Role → dashboards follows the seed's grafana-rbac block (exec-cockpit-spec.md "Access Control"):
executives see CEO/CTO/CISO; engineering leads CTO/Ops; the security team CISO. Admin and auditor
roles see every dashboard read-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from companyos.domain.errors import Forbidden, Unauthenticated

Role = Literal["platform_admin", "tenant_admin", "ceo", "cto", "ciso", "head_ops", "head_product", "auditor"]
ROLES: tuple[str, ...] = (
    "platform_admin",
    "tenant_admin",
    "ceo",
    "cto",
    "ciso",
    "head_ops",
    "head_product",
    "auditor",
)
PERSONAS: tuple[str, ...] = ("ceo", "cto", "ciso", "ops", "product")

_EXECUTIVES = ("ceo", "cto", "ciso")
_ENGINEERING_LEADS = ("cto", "ops")
_SECURITY_TEAM = ("ciso",)

ROLE_PERSONAS: dict[str, tuple[str, ...]] = {
    "platform_admin": PERSONAS,
    "tenant_admin": PERSONAS,
    "auditor": PERSONAS,
    "ceo": _EXECUTIVES,
    "cto": tuple(dict.fromkeys(_EXECUTIVES + _ENGINEERING_LEADS)),
    "ciso": tuple(dict.fromkeys(_EXECUTIVES + _SECURITY_TEAM)),
    "head_ops": _ENGINEERING_LEADS,
    "head_product": ("product",),
}

# Actions a role may take on its tenant, besides viewing dashboards.
# Admin control plane (issue #9): catalog:view (browse, versions, lineage, impact) for every role;
# kpi:author (drafts, schedule/SLA/validation edits), kpi:approve (decide change requests),
# kpi:deploy (publish, unpublish, pause, resume, rollback, canary, deprecate, retire) for admins;
# audit:export (evidence bundles) for admins and auditors.
# runs:correct (POST /api/runs/{run_id}/corrections: restate a delivered run) for admins.
_READ = frozenset({"runs:view", "catalog:view"})
_ADMIN = frozenset(
    {"audit:view", "audit:export", "admin:write", "kpi:author", "kpi:approve", "kpi:deploy", "runs:correct"}
)
# Alerts (issue #6): alerts:view (inbox, rules, routes) for every role; alerts:ack (acknowledge,
# resolve) for every role that acts; alerts:tune (thresholds, escalation routes) for admins.
_ALERTS_READ = frozenset({"alerts:view"})
_ALERTS_ACT = frozenset({"alerts:view", "alerts:ack"})
_ALERTS_ADMIN = frozenset({"alerts:view", "alerts:ack", "alerts:tune"})
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "platform_admin": _READ | _ADMIN | _ALERTS_ADMIN | {"platform:rollup"},
    "tenant_admin": _READ | _ADMIN | _ALERTS_ADMIN,
    "auditor": _READ | {"audit:view", "audit:export"} | _ALERTS_READ,
    "ceo": _READ | _ALERTS_ACT,
    "cto": _READ | _ALERTS_ACT,
    "ciso": _READ | _ALERTS_ACT,
    "head_ops": _READ | _ALERTS_ACT,
    "head_product": _READ | _ALERTS_ACT,
}

MEMBERSHIPS_CLAIM = "custom:memberships"


@dataclass(frozen=True)
class Principal:
    sub: str
    email: str
    memberships: Mapping[str, str] = field(default_factory=dict)  # tenant id -> role

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any] | None) -> Principal:
        """Build from API Gateway Cognito authorizer claims (all values are strings there)."""
        if not claims or not claims.get("sub"):
            raise Unauthenticated("no authenticated principal on the request")
        raw = claims.get(MEMBERSHIPS_CLAIM) or "{}"
        try:
            memberships = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except json.JSONDecodeError as exc:
            raise Unauthenticated("the memberships claim is not valid JSON") from exc
        valid = {t: r for t, r in memberships.items() if r in ROLES}
        return cls(sub=str(claims["sub"]), email=str(claims.get("email", "")), memberships=valid)

    def role_in(self, tenant_id: str) -> str | None:
        return self.memberships.get(tenant_id)


def personas_for(role: str) -> tuple[str, ...]:
    return ROLE_PERSONAS.get(role, ())


def authorize(principal: Principal, action: str, tenant_id: str, persona: str | None = None) -> str:
    """The single decision point. Returns the caller's role in the tenant or raises Forbidden."""
    role = principal.role_in(tenant_id)
    if role is None:
        raise Forbidden(f"you are not a member of tenant '{tenant_id}'", code="tenant_forbidden")
    if action == "dashboard:view":
        if persona not in PERSONAS:
            raise Forbidden(f"unknown persona '{persona}'", code="persona_unknown")
        if persona not in personas_for(role):
            raise Forbidden(
                f"role '{role}' may not open the {persona.upper()} dashboard", code="persona_forbidden"
            )
        return role
    if action not in ROLE_ACTIONS.get(role, frozenset()):
        raise Forbidden(f"role '{role}' may not perform '{action}'", code="action_forbidden")
    return role
