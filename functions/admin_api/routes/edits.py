"""Schedule / SLA / validation edits: each derives a new draft from an existing version (versions are
immutable), with the impact preview (`preview: true` only previews)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from companyos.admin import answers as shapes
from companyos.admin import drafts
from companyos.api import WRITE_REFUSALS, answers

from .bodies import ScheduleIn, SlaIn, ValidationIn
from .context import Kpi, Tenant, Ver, ctx

router = Router()


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/schedule", responses=answers(*WRITE_REFUSALS, model=shapes.Derived)
)
def post_schedule(
    kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ScheduleIn, Body()]
) -> dict[str, Any]:
    patch = {"schedule_class": body.schedule_class}
    return drafts.derive(
        ctx(router, tenant), kpi_id, ver, "schedule", patch, body.preview, body.expected_revision, body.reason
    )


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/sla", responses=answers(*WRITE_REFUSALS, model=shapes.Derived)
)
def post_sla(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[SlaIn, Body()]) -> dict[str, Any]:
    patch = body.model_dump(include={"max_duration_s", "finish_by"})
    return drafts.derive(
        ctx(router, tenant), kpi_id, ver, "sla", patch, body.preview, body.expected_revision, body.reason
    )


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/validation", responses=answers(*WRITE_REFUSALS, model=shapes.Derived)
)
def post_validation(
    kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ValidationIn, Body()]
) -> dict[str, Any]:
    patch = body.model_dump(include={"pre_rules", "post_rules"})
    c = ctx(router, tenant)
    return drafts.derive(
        c, kpi_id, ver, "validation", patch, body.preview, body.expected_revision, body.reason
    )
