"""The end of a version's life: deprecate (grace period, consumers warned) and retire."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from companyos.admin import answers as shapes
from companyos.admin import lifecycle
from companyos.api import WRITE_REFUSALS, answers

from .bodies import DeprecateIn, Write
from .context import Kpi, Tenant, Ver, ctx

router = Router()


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/deprecate", responses=answers(*WRITE_REFUSALS, model=shapes.Deprecated)
)
def post_deprecate(
    kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[DeprecateIn, Body()]
) -> dict[str, Any]:
    return lifecycle.deprecate(
        ctx(router, tenant), kpi_id, ver, body.grace_days, body.expected_revision, body.reason
    )


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/retire", responses=answers(*WRITE_REFUSALS, model=shapes.KpiRecord)
)
def post_retire(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[Write, Body()]) -> dict[str, Any]:
    return lifecycle.retire(ctx(router, tenant), kpi_id, ver, body.expected_revision, body.reason)
