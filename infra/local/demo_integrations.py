"""The demo tenants' trace / log deep-link templates (`demo_prometheus.DEEP_LINKS`: Grafana Tempo +
Loki for Northwind, X-Ray + CloudWatch Logs Insights for Globex), set the way an admin sets them:
`PUT /api/admin/integrations/deeplinks` through the admin_api handler with the admin's claims
(validated, versioned and audited like an edit on the Integrations page)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from companyos.domain.auth import MEMBERSHIPS_CLAIM

from infra.local.demo_inventory import VENDORS
from infra.local.demo_prometheus import DEEP_LINKS
from infra.local.http import proxy_event

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant
    from infra.local.stack import LocalStack


def save_deeplinks(stack: LocalStack, demo: DemoTenant) -> dict[str, Any] | None:
    tenant_id = demo.tenant.id
    if tenant_id not in DEEP_LINKS:
        return None
    email, role = VENDORS[tenant_id][0]  # the tenant's admin (Northwind: the platform admin)
    claims = {"sub": f"local-{email}", "email": email, MEMBERSHIPS_CLAIM: json.dumps({tenant_id: role})}
    body = {**DEEP_LINKS[tenant_id].model_dump(), "reason": "demo: the tenant's Grafana / AWS consoles"}
    event = proxy_event(
        "PUT",
        "/api/admin/integrations/deeplinks",
        f"tenant={tenant_id}",
        {"Content-Type": "application/json"},
        json.dumps(body).encode(),
        claims,
    )
    reply = stack.invoke_api("admin_api", event)
    if reply["statusCode"] != 200:
        raise RuntimeError(f"deep links for {tenant_id} answered {reply['statusCode']}: {reply['body']}")
    return dict(json.loads(reply["body"]))
