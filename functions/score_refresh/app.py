"""Score refresh: after a KPI run (or on schedule), recompute the snapshots of the tenants involved."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.api import bootstrap, logger
from companyos.store.repos import Catalog
from companyos.views import snapshots

bootstrap()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    catalog = Catalog()
    tenant_ids = sorted({r["tenant_id"] for r in event.get("results", []) if "tenant_id" in r})
    tenants = [catalog.get_tenant(t) for t in tenant_ids] if tenant_ids else catalog.list_tenants()
    refreshed = [snapshots.refresh(t) for t in tenants if t.active]
    return {"refreshed": refreshed, "results": event.get("results", [])}
