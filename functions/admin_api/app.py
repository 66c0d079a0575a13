"""Admin control plane API: catalog, versions and promotion, change requests, deployment controls,
lineage and impact, audit verification and evidence bundles. Every write is audited in the domain."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.admin import approvals, service
from companyos.api import bootstrap, logger, principal_of, resolver
from pydantic import BaseModel, Field

cfg = bootstrap()
app = resolver()
Tenant = Annotated[str, Query(min_length=1)]
Kpi = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$")]
Ver = Annotated[str, Path(pattern=r"^\d+\.\d+\.\d+$")]


def ctx(tenant: str) -> service.Ctx:
    return service.Ctx(
        principal=principal_of(app),
        tenant_id=tenant,
        request_id=app.current_event.request_context.request_id or "",
        approval_state_machine_arn=cfg.approval_state_machine_arn,
    )


class Write(BaseModel):
    reason: str = Field(default="", max_length=1000)
    expected_revision: int | None = Field(default=None, description="optimistic lock: 409 when it moved")


class DraftIn(Write):
    contract: dict[str, Any] | None = Field(
        default=None, description="full contract; omitted: copy the newest"
    )
    version: str | None = Field(default=None, pattern=r"^\d+\.\d+\.\d+$")
    name: str | None = None
    purpose: str | None = None
    pack: str | None = None
    layer: Literal["primary", "secondary", "composite"] | None = None
    owner: str | None = None
    criticality: Literal["low", "medium", "high"] | None = None


class MetaIn(Write):
    name: str | None = None
    purpose: str | None = None
    pack: str | None = None
    layer: Literal["primary", "secondary", "composite"] | None = None
    owner: str | None = None
    criticality: Literal["low", "medium", "high"] | None = None


class ContractIn(Write):
    contract: dict[str, Any]


class EnvIn(Write):
    env: Literal["dev", "stg", "prod"]


class PauseIn(Write):
    entities: list[str] = Field(default_factory=list, description="empty: every entity")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    eta: str | None = Field(default=None, description="shown on the maintenance badge")


class ResumeIn(Write):
    pause_id: str | None = Field(default=None, description="omitted: lift every pause of the KPI")


class CanaryIn(EnvIn):
    percent: int = Field(ge=0, le=100)
    entities: list[str] = Field(default_factory=list)


class EditIn(Write):
    preview: bool = Field(default=False, description="only return the impact preview")


class ScheduleIn(EditIn):
    schedule_class: str


class SlaIn(EditIn):
    max_duration_s: float = Field(ge=0)
    finish_by: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")


class ValidationIn(EditIn):
    pre_rules: list[dict[str, Any]] | None = None
    post_rules: list[dict[str, Any]] | None = None


class DeprecateIn(Write):
    grace_days: int = Field(default=30, ge=0, le=3650)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1000)


class WindowIn(BaseModel):
    days: list[int] = Field(description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")
    reason: str = ""


# ---------------------------------------------------------------- catalog


@app.get("/api/catalog")
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
    return service.browse(ctx(tenant), q, filters, limit, offset)


@app.get("/api/kpis/<kpi_id>")
def get_kpi(kpi_id: Kpi, tenant: Tenant) -> dict[str, Any]:
    return service.detail(ctx(tenant), kpi_id)


@app.patch("/api/kpis/<kpi_id>")
def patch_kpi(kpi_id: Kpi, tenant: Tenant, body: Annotated[MetaIn, Body()]) -> dict[str, Any]:
    meta = body.model_dump(exclude={"reason", "expected_revision"})
    return service.update_meta(ctx(tenant), kpi_id, meta, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions")
def post_version(kpi_id: Kpi, tenant: Tenant, body: Annotated[DraftIn, Body()]) -> dict[str, Any]:
    meta = body.model_dump(include={"name", "purpose", "pack", "layer", "owner", "criticality"})
    return service.create_draft(
        ctx(tenant), kpi_id, body.contract, body.version, meta, body.expected_revision, body.reason
    )


@app.put("/api/kpis/<kpi_id>/versions/<ver>")
def put_version(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ContractIn, Body()]) -> dict[str, Any]:
    return service.update_draft(ctx(tenant), kpi_id, ver, body.contract, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/submit")
def post_submit(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[Write, Body()]) -> dict[str, Any]:
    return service.submit(ctx(tenant), kpi_id, ver, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/publish")
def post_publish(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[EnvIn, Body()]) -> dict[str, Any]:
    return service.publish(ctx(tenant), kpi_id, ver, body.env, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/unpublish")
def post_unpublish(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[EnvIn, Body()]) -> dict[str, Any]:
    return service.unpublish(ctx(tenant), kpi_id, ver, body.env, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/rollback")
def post_rollback(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[EnvIn, Body()]) -> dict[str, Any]:
    return service.rollback(ctx(tenant), kpi_id, ver, body.env, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/pause")
def post_pause(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[PauseIn, Body()]) -> dict[str, Any]:
    return service.pause(
        ctx(tenant), kpi_id, ver, body.entities, body.starts_at, body.ends_at, body.eta, body.reason
    )


@app.post("/api/kpis/<kpi_id>/versions/<ver>/resume")
def post_resume(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ResumeIn, Body()]) -> dict[str, Any]:
    return service.resume(ctx(tenant), kpi_id, ver, body.pause_id, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/canary")
def post_canary(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[CanaryIn, Body()]) -> dict[str, Any]:
    c = ctx(tenant)
    return service.canary(
        c, kpi_id, ver, body.env, body.percent, body.entities, body.expected_revision, body.reason
    )


@app.post("/api/kpis/<kpi_id>/versions/<ver>/schedule")
def post_schedule(
    kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ScheduleIn, Body()]
) -> dict[str, Any]:
    patch = {"schedule_class": body.schedule_class}
    return service.derive(
        ctx(tenant), kpi_id, ver, "schedule", patch, body.preview, body.expected_revision, body.reason
    )


@app.post("/api/kpis/<kpi_id>/versions/<ver>/sla")
def post_sla(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[SlaIn, Body()]) -> dict[str, Any]:
    patch = body.model_dump(include={"max_duration_s", "finish_by"})
    return service.derive(
        ctx(tenant), kpi_id, ver, "sla", patch, body.preview, body.expected_revision, body.reason
    )


@app.post("/api/kpis/<kpi_id>/versions/<ver>/validation")
def post_validation(
    kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[ValidationIn, Body()]
) -> dict[str, Any]:
    patch = body.model_dump(include={"pre_rules", "post_rules"})
    c = ctx(tenant)
    return service.derive(
        c, kpi_id, ver, "validation", patch, body.preview, body.expected_revision, body.reason
    )


@app.post("/api/kpis/<kpi_id>/versions/<ver>/deprecate")
def post_deprecate(
    kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[DeprecateIn, Body()]
) -> dict[str, Any]:
    return service.deprecate(ctx(tenant), kpi_id, ver, body.grace_days, body.expected_revision, body.reason)


@app.post("/api/kpis/<kpi_id>/versions/<ver>/retire")
def post_retire(kpi_id: Kpi, ver: Ver, tenant: Tenant, body: Annotated[Write, Body()]) -> dict[str, Any]:
    return service.retire(ctx(tenant), kpi_id, ver, body.expected_revision, body.reason)


@app.get("/api/kpis/<kpi_id>/lineage")
def get_lineage(kpi_id: Kpi, tenant: Tenant) -> dict[str, Any]:
    return service.kpi_lineage(ctx(tenant), kpi_id)


@app.get("/api/kpis/<kpi_id>/impact")
def get_impact(
    kpi_id: Kpi, tenant: Tenant, change: Annotated[str, Query(min_length=1)], schedule_class: str = ""
) -> dict[str, Any]:
    return service.kpi_impact(ctx(tenant), kpi_id, change, schedule_class or None)


# ---------------------------------------------------------------- change requests


@app.get("/api/approvals")
def get_approvals(tenant: Tenant, status: str = "") -> dict[str, Any]:
    return approvals.queue(ctx(tenant), status or None)


@app.get("/api/approvals/<request_id>")
def get_approval(request_id: Annotated[str, Path()], tenant: Tenant) -> dict[str, Any]:
    return approvals.get_request(ctx(tenant), request_id)


@app.post("/api/approvals/<request_id>/decision")
def post_decision(
    request_id: Annotated[str, Path()], tenant: Tenant, body: Annotated[DecisionIn, Body()]
) -> dict[str, Any]:
    return approvals.decide(ctx(tenant), request_id, body.decision == "approve", body.reason)


# ---------------------------------------------------------------- settings and audit


@app.get("/api/admin/change-window")
def get_window(tenant: Tenant) -> dict[str, Any]:
    return service.get_change_window(ctx(tenant))


@app.put("/api/admin/change-window")
def put_window(tenant: Tenant, body: Annotated[WindowIn, Body()]) -> dict[str, Any]:
    return service.set_change_window(ctx(tenant), body.days, body.start, body.end, body.reason)


@app.get("/api/audit")
def get_audit(tenant: Tenant, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    return service.audit_events(ctx(tenant), limit)


@app.get("/api/audit/verify")
def get_audit_verify(tenant: Tenant) -> dict[str, Any]:
    return service.audit_verify(ctx(tenant))


@app.get("/api/audit/export")
def get_audit_export(tenant: Tenant) -> dict[str, Any]:
    return service.evidence_bundle(ctx(tenant))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
