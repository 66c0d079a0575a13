"""Who is calling: memberships with tenant names and the dashboards each role may open."""

from __future__ import annotations

from typing import Any

from companyos.auth import Principal, personas_for
from companyos.errors import NotFound
from companyos.store.repos import Catalog


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
            }
        )
    return {"user": {"sub": principal.sub, "email": principal.email}, "tenants": tenants}
