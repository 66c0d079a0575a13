"""Who is calling: memberships with tenant names and the dashboards each role may open."""

from __future__ import annotations

from typing import Any

from companyos.adapters.repos import Catalog
from companyos.domain.auth import Principal, personas_for
from companyos.domain.errors import NotFound

# The dashboard a role lands on: its own persona (a head of ops is not a CTO).
ROLE_HOME = {
    "ceo": "ceo",
    "cto": "cto",
    "ciso": "ciso",
    "head_ops": "ops",
    "head_product": "product",
}


def home_persona(role: str) -> str | None:
    """The persona a role's members land on: their own when they may open it, else the first
    dashboard they may open (admins and auditors: the CEO's overview); None without any."""
    personas = personas_for(role)
    own = ROLE_HOME.get(role)
    if own in personas:
        return own
    return personas[0] if personas else None


def whoami(principal: Principal) -> dict[str, Any]:
    catalog = Catalog()
    tenants = []
    for tenant_id, role in sorted(principal.memberships.items()):
        try:
            t = catalog.get_tenant(tenant_id)
        except NotFound:
            continue  # a stale claim for a deleted tenant is not shown
        if not t.active:
            continue
        tenants.append(
            {
                "id": t.id,
                "name": t.name,
                "environment": t.environment,
                "role": role,
                "personas": list(personas_for(role)),
                "home": home_persona(role),
            }
        )
    return {"user": {"sub": principal.sub, "email": principal.email}, "tenants": tenants}
