"""Lineage (what a KPI reads, what reads it) and the impact of a change."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from companyos.admin import answers as shapes
from companyos.admin import queries
from companyos.api import answers

from .context import Kpi, Tenant, ctx

router = Router()


@router.get("/api/kpis/<kpi_id>/lineage", responses=answers(model=shapes.Lineage))
def get_lineage(kpi_id: Kpi, tenant: Tenant) -> dict[str, Any]:
    return queries.kpi_lineage(ctx(router, tenant), kpi_id)


@router.get("/api/kpis/<kpi_id>/impact", responses=answers(model=shapes.Impact))
def get_impact(
    kpi_id: Kpi, tenant: Tenant, change: Annotated[str, Query(min_length=1)], schedule_class: str = ""
) -> dict[str, Any]:
    return queries.kpi_impact(ctx(router, tenant), kpi_id, change, schedule_class or None)
