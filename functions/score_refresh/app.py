"""Score refresh: after a KPI run (or on schedule), recompute the snapshots of the tenants involved.

Also passes on the runs that ended and their alert events (SLA breach, hard validation failure,
with deep links) to the state machine's EvaluateAlerts step."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.repos import Catalog
from companyos.api import bootstrap, logger, retried_when_transient
from companyos.views import snapshots

bootstrap()


@retried_when_transient
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    catalog = Catalog()
    results = [r for r in event.get("results", []) if isinstance(r, dict)]
    tenant_ids = sorted({r["tenant_id"] for r in results if "tenant_id" in r})
    tenants = [catalog.get_tenant(t) for t in tenant_ids] if tenant_ids else catalog.list_tenants()
    refreshed = [snapshots.refresh(t) for t in tenants if t.active]
    events = [
        {**e, "tenant_id": r["tenant_id"], "kpi_id": r["kpi_id"], "run_id": r["run_id"]}
        for r in results
        for e in r.get("events") or []
    ]
    statuses = {
        s: sum(1 for r in results if r.get("status") == s)
        for s in ("success", "partial", "failed", "skipped")
    }
    keep = ("tenant_id", "kpi_id", "run_id", "status", "retry_seq", "sla_breached")
    return {
        "refreshed": refreshed,
        "runs": statuses,
        "events": events,
        "results": [{k: r.get(k) for k in keep} for r in results],  # the runs that just ended
    }
