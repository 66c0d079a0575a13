"""The catalog: search and browse, a KPI's detail and metadata, drafts and their edits."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from companyos.admin import answers as shapes
from companyos.admin import drafts, queries
from companyos.api import WRITE_REFUSALS, answers

from .bodies import ContractIn, DraftIn, MetaIn
from .context import Kpi, Tenant, Ver, ctx

router = Router()


@router.get("/api/catalog", responses=answers(model=shapes.CatalogPage))
def get_catalog(
    tenant: Tenant,
    q: Annotated[str, Query(max_length=200)] = "",
    pack: str = "",
    layer: str = "",
    owner: str = "",
    status: str = "",
    criticality: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    filters = {"pack": pack, "layer": layer, "owner": owner, "status": status, "criticality": criticality}
    return queries.browse(ctx(router, tenant), q, filters, limit, offset)


@router.get("/api/kpis/<kpi_id>", responses=answers(model=shapes.KpiDetail))
def get_kpi(kpi_id: Kpi, tenant: Tenant) -> dict[str, Any]:
    return queries.detail(ctx(router, tenant), kpi_id)


@router.patch("/api/kpis/<kpi_id>", responses=answers(*WRITE_REFUSALS, model=shapes.KpiRecord))
def patch_kpi(kpi_id: Kpi, tenant: Tenant, body: Annotated[MetaIn, Body()]) -> dict[str, Any]:
    meta = body.model_dump(exclude={"reason", "expected_revision"})
    return drafts.update_meta(ctx(router, tenant), kpi_id, meta, body.expected_revision, body.reason)


@router.post("/api/kpis/<kpi_id>/versions", responses=answers(*WRITE_REFUSALS, model=shapes.KpiRecord))
def post_version(kpi_id: Kpi, tenant: Tenant, body: Annotated[DraftIn, Body()]) -> dict[str, Any]:
    meta = body.model_dump(include={"name", "purpose", "pack", "layer", "owner", "criticality"})
    return drafts.create_draft(
        ctx(router, tenant), kpi_id, body.contract, body.version, meta, body.expected_revision, body.reason
    )


@router.put("/api/kpis/<kpi_id>/versions/<ver>", responses=answers(*WRITE_REFUSALS, model=shapes.KpiRecord))
def put_version(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ContractIn, Body()]) -> dict[str, Any]:
    return drafts.update_draft(
        ctx(router, tenant), kpi_id, ver, body.contract, body.expected_revision, body.reason
    )
