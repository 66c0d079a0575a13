"""A version's way to production: submit, publish (stg and prod through change requests), unpublish,
rollback, pause and resume, canary."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from companyos.admin import answers as shapes
from companyos.admin import change_requests, controls
from companyos.api import WRITE_REFUSALS, answers

from .bodies import CanaryIn, EnvIn, PauseIn, ResumeIn, Write
from .context import Kpi, Tenant, Ver, ctx

router = Router()


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/submit", responses=answers(*WRITE_REFUSALS, model=shapes.Submitted)
)
def post_submit(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[Write, Body()]) -> dict[str, Any]:
    return change_requests.submit(ctx(router, tenant), kpi_id, ver, body.expected_revision, body.reason)


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/publish",
    responses=answers(*WRITE_REFUSALS, model=shapes.Published | shapes.Submitted),
)
def post_publish(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[EnvIn, Body()]) -> dict[str, Any]:
    return change_requests.publish(
        ctx(router, tenant), kpi_id, ver, body.env, body.expected_revision, body.reason
    )


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/unpublish", responses=answers(*WRITE_REFUSALS, model=shapes.KpiRecord)
)
def post_unpublish(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[EnvIn, Body()]) -> dict[str, Any]:
    return controls.unpublish(ctx(router, tenant), kpi_id, ver, body.env, body.expected_revision, body.reason)


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/rollback", responses=answers(*WRITE_REFUSALS, model=shapes.RolledBack)
)
def post_rollback(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[EnvIn, Body()]) -> dict[str, Any]:
    return controls.rollback(ctx(router, tenant), kpi_id, ver, body.env, body.expected_revision, body.reason)


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/pause", responses=answers(*WRITE_REFUSALS, model=shapes.Paused)
)
def post_pause(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[PauseIn, Body()]) -> dict[str, Any]:
    return controls.pause(
        ctx(router, tenant), kpi_id, ver, body.entities, body.starts_at, body.ends_at, body.eta, body.reason
    )


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/resume", responses=answers(*WRITE_REFUSALS, model=shapes.Resumed)
)
def post_resume(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ResumeIn, Body()]) -> dict[str, Any]:
    return controls.resume(ctx(router, tenant), kpi_id, ver, body.pause_id, body.reason)


@router.post(
    "/api/kpis/<kpi_id>/versions/<ver>/canary", responses=answers(*WRITE_REFUSALS, model=shapes.KpiRecord)
)
def post_canary(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[CanaryIn, Body()]) -> dict[str, Any]:
    c = ctx(router, tenant)
    return controls.canary(
        c, kpi_id, ver, body.env, body.percent, body.entities, body.expected_revision, body.reason
    )
