"""The admin API's Powertools Routers, one per area; `functions/admin_api/app.py` includes them into
the resolver in this order (the OpenAPI spec lists the routes in it)."""

from . import approvals, catalog, deployment, governance, lineage

ROUTERS = (catalog.router, deployment.router, lineage.router, approvals.router, governance.router)

__all__ = ["ROUTERS"]
