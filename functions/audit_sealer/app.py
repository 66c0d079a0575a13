"""The audit sealer (#17): the audit table's stream, and the sweep schedule.

Stream event (`{"Records": [...]}`, INSERTs of `REC#…` records, filtered by the event source
mapping): chain the records per tenant and sign a digest (adapters/audit_seal.py). An error fails
the batch: the mapping retries it, bisects it, and finally sends it to the dead-letter queue — the
sweep seals those records anyway. Schedule event (`{}`, or `{"chains": [...]}`): sweep every
tenant's chain and PLATFORM's: seal what is pending, write the genesis or a heartbeat digest."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.audit import current_signer
from companyos.adapters.audit_seal import Sealer
from companyos.adapters.repos import Catalog
from companyos.api import bootstrap, logger

cfg = bootstrap()
PLATFORM_CHAIN = "PLATFORM"


def _sealer() -> Sealer:
    signer = current_signer()
    if signer is None:
        raise RuntimeError("AUDIT_SIGNING_KEY_ID is not set: the sealer cannot sign digests")
    return Sealer(signer)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = event or {}
    if "Records" in event:
        sealed = _sealer().seal_stream(event["Records"])
        return {"sealed": sealed}
    chains = event.get("chains") or [t.id for t in Catalog().list_tenants()] + [PLATFORM_CHAIN]
    sealer = _sealer()
    swept: dict[str, int] = {}
    failed: list[str] = []
    for chain in chains:
        try:
            swept[chain] = sealer.sweep(chain)
        except Exception:  # one chain's failure must not stop the others' heartbeats
            logger.exception("audit sweep failed", extra={"chain": chain})
            failed.append(chain)
    return {"swept": {c: n for c, n in swept.items() if n}, "chains": len(chains), "failed": failed}
