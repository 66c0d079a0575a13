"""The admin API's Powertools Routers, one per area; `functions/admin_api/app.py` includes them into
the resolver in this order (the order of the paths in docs/openapi-admin.json)."""

from . import approvals, catalog, deployment, edits, governance, integrations, lifecycle, lineage, vendors

ROUTERS = (
    catalog.router,
    deployment.router,
    edits.router,
    lifecycle.router,
    lineage.router,
    approvals.router,
    governance.router,
    vendors.router,
    integrations.router,
)

__all__ = ["ROUTERS"]
