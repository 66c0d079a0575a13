"""Schedule target: pull every tenant's Prometheus connector (or one tenant's) into signals.

Event: `{}` (every active tenant with a connector) or `{"tenant_id": "<id>"}`. Failures of one
tenant's endpoint or query are reported in the result, never raised: one broken Prometheus must not
stop the others (its circuit breaker keeps the next ticks from hammering it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.repos import Catalog
from companyos.api import bootstrap, logger
from companyos.sources import prometheus

cfg = bootstrap()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tenant_id = (event or {}).get("tenant_id")
    tenants = [tenant_id] if tenant_id else [t.id for t in Catalog().list_tenants() if t.active]
    reports = prometheus.pull_all(tenants)
    failed = [{"tenant_id": r["tenant_id"], **q} for r in reports for q in r["queries"] if q.get("error")]
    if failed:
        logger.warning("prometheus pull failures", extra={"failures": failed})
    return {
        "tenants": len(reports),
        "signals": sum(r["signals"] for r in reports),
        "failures": failed,
        "reports": reports,
    }
