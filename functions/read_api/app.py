"""The cockpit read API: who am I, persona dashboards, run evidence (precomputed, no Scans); its one
write is a run correction (a new run linked to the original, audited)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.api import WRITE_REFUSALS, answers, bootstrap, logger, principal_of, resolver
from companyos.runs import corrections
from companyos.views import answers as shapes
from companyos.views import dashboards, drilldown, evidence, me, monitoring
from pydantic import BaseModel, Field

bootstrap()
app = resolver()

# The closed sets of the domain as enums of the spec (a unit test keeps them equal to the domain's)
Persona = Literal["ceo", "cto", "ciso", "ops", "product"]  # domain.auth.PERSONAS
PeriodKey = Literal["7d", "28d", "90d", "365d"]  # runs.contracts.PERIODS
Audience = Literal["exec", "ops", "dev"]  # views.monitoring.AUDIENCES


@app.get("/api/me", responses=answers(model=shapes.Me))
def get_me() -> dict[str, Any]:
    return me.whoami(principal_of(app))


@app.get("/api/dashboards/<persona>", responses=answers(model=shapes.Dashboard))
def get_dashboard(
    persona: Annotated[Persona, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    period: Annotated[PeriodKey, Query()] = "7d",
) -> dict[str, Any]:
    return dashboards.dashboard(principal_of(app), tenant, persona, period)


@app.get("/api/runs/<run_id>", responses=answers(model=shapes.RunEvidence))
def get_run(run_id: Annotated[str, Path()], tenant: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return evidence.run_evidence(principal_of(app), tenant, run_id)


class CorrectionIn(BaseModel):
    values: dict[str, float] = Field(
        min_length=1, description="restated value per period (7d | 28d | 90d | 365d) the run delivered"
    )
    reason: str = Field(min_length=3, max_length=1000, description="why the delivered value was wrong")


@app.post("/api/runs/<run_id>/corrections", responses=answers(*WRITE_REFUSALS, model=shapes.Correction))
def post_run_correction(
    run_id: Annotated[str, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    body: Annotated[CorrectionIn, Body()],
) -> dict[str, Any]:
    """Restate a delivered run (tenant and platform admins): appends run `<run_id>-c<n>` linked by
    lineage_ref `correction-of:<run_id>`; the original's rows are untouched. Audited."""
    request_id = app.current_event.request_context.request_id or ""
    return corrections.submit(principal_of(app), tenant, run_id, body.values, body.reason, request_id)


Tenant = Annotated[str, Query(min_length=1, description="tenant id (the caller must be a member)")]
Period = Annotated[PeriodKey, Query(description="the window: 7, 28, 90 or 365 days")]


@app.get("/api/scores/breakdown", responses=answers(model=shapes.Breakdown))
def get_score_breakdown(tenant: Tenant, period: Period = "7d") -> dict[str, Any]:
    return drilldown.breakdown(principal_of(app), tenant, period)


@app.get("/api/drill/kpi/<kpi_id>", responses=answers(model=shapes.KpiDrill))
def get_drill_kpi(kpi_id: Annotated[str, Path()], tenant: Tenant, period: Period = "7d") -> dict[str, Any]:
    return drilldown.kpi(principal_of(app), tenant, kpi_id, period)


@app.get("/api/drill/service/<service>", responses=answers(model=shapes.ServiceDrill))
def get_drill_service(
    service: Annotated[str, Path()], tenant: Tenant, period: Period = "7d"
) -> dict[str, Any]:
    return drilldown.service(principal_of(app), tenant, service, period)


@app.get("/api/drill/incidents", responses=answers(model=shapes.Listing))
def get_drill_incidents(tenant: Tenant, period: Period = "28d") -> dict[str, Any]:
    return drilldown.incident_list(principal_of(app), tenant, period)


@app.get("/api/drill/incidents/<incident_id>", responses=answers(model=shapes.IncidentDrill))
def get_drill_incident(incident_id: Annotated[str, Path()], tenant: Tenant) -> dict[str, Any]:
    return drilldown.incident(principal_of(app), tenant, incident_id)


@app.get("/api/drill/changes", responses=answers(model=shapes.Listing))
def get_drill_changes(tenant: Tenant, period: Period = "7d") -> dict[str, Any]:
    return drilldown.changes(principal_of(app), tenant, period)


@app.get("/api/drill/deployments/<deployment_id>", responses=answers(model=shapes.DeploymentDrill))
def get_drill_deployment(
    deployment_id: Annotated[str, Path()], tenant: Tenant, period: Period = "28d"
) -> dict[str, Any]:
    return drilldown.deployment(principal_of(app), tenant, deployment_id, period)


@app.get("/api/drill/compliance/<framework>/<control_id>", responses=answers(model=shapes.ControlDrill))
def get_drill_control(
    framework: Annotated[str, Path()],
    control_id: Annotated[str, Path()],
    tenant: Tenant,
    period: Period = "7d",
) -> dict[str, Any]:
    """One compliance control: its checks in the reports in force, the failing ones, since when."""
    return drilldown.control(principal_of(app), tenant, unquote(framework), unquote(control_id), period)


@app.get("/api/drill/services", responses=answers(model=shapes.Listing))
def get_drill_services(tenant: Tenant, period: Period = "7d") -> dict[str, Any]:
    return drilldown.service_map(principal_of(app), tenant, period)


# ---- KPI monitoring (kpi-observability-admin.md): one Query over the tenant's run index each


@app.get("/api/monitoring/runs", responses=answers(model=shapes.RunsOverview))
def get_monitoring_runs(
    tenant: Annotated[str, Query(min_length=1)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    kpi: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return monitoring.run_overview(principal_of(app), tenant, days=days, kpi_id=kpi, status=status)


@app.get("/api/monitoring/validation", responses=answers(model=shapes.ValidationSummary))
def get_monitoring_validation(
    tenant: Annotated[str, Query(min_length=1)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    kpi: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return monitoring.validation_summary(principal_of(app), tenant, days=days, kpi_id=kpi)


@app.get("/api/monitoring/lineage", responses=answers(model=shapes.LineageSources))
def get_monitoring_lineage(
    tenant: Annotated[str, Query(min_length=1)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    kpi: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return monitoring.lineage_sources(principal_of(app), tenant, days=days, kpi_id=kpi)


@app.get("/api/monitoring/sla-violations", responses=answers(model=shapes.SlaViolations))
def get_monitoring_sla(
    tenant: Annotated[str, Query(min_length=1)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    kpi: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return monitoring.sla_violations(principal_of(app), tenant, days=days, kpi_id=kpi)


@app.get("/api/monitoring/dashboards/<audience>", responses=answers(model=shapes.MonitoringDashboard))
def get_monitoring_dashboard(
    audience: Annotated[Audience, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    kpi: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return monitoring.dashboard(principal_of(app), tenant, audience, days=days, kpi_id=kpi)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
