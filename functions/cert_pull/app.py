"""Schedule target: pull every tenant's AWS Certificate Manager connector (or one tenant's) into its
certificate inventory.

Event: `{}` (every active tenant with an ACM connector) or `{"tenant_id": "<id>"}`. A failing region
or a certificate of an odd shape is reported in the result, never raised: one tenant's broken role
must not stop the others (a failed region keeps the certificates it had)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.repos import Catalog
from companyos.api import bootstrap, logger
from companyos.sources import acm

cfg = bootstrap()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tenant_id = (event or {}).get("tenant_id")
    tenants = [tenant_id] if tenant_id else [t.id for t in Catalog().list_tenants() if t.active]
    reports = acm.pull_all(tenants)
    failed = [
        {"tenant_id": r["tenant_id"], **g} for r in reports for g in r["regions"] if g["status"] != "ok"
    ]
    skipped = [{"tenant_id": r["tenant_id"], **s} for r in reports for s in r["skipped"]]
    if failed or skipped:
        logger.warning("acm pull problems", extra={"failures": failed, "skipped": skipped})
    return {
        "tenants": len(reports),
        "certificates": sum(r["found"] for r in reports),
        "failures": failed,
        "skipped": skipped,
        "reports": reports,
    }
