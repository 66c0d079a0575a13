"""The read API's answers as pydantic models: the schema of each 200 in docs/openapi.json.

They document what the views return (the views build plain dicts; the routes declare these models
in their `responses`, and the schemathesis runs check every answer against them). The envelopes are
typed field by field; what is open by nature stays an open object: a panel's payload (its items
depend on the panel kind: docs/cockpit-api.md), a run's rows, a drill-down's per-source sections."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from companyos.domain.answer_models import Closed, Extensible, Number, Open

# ---- /api/me


class User(Closed):
    sub: str
    email: str | None = None


class Membership(Closed):
    id: str
    name: str
    environment: str
    role: str
    personas: list[str] = Field(description="the dashboards the role may open")
    home: str | None = Field(description="the persona the member lands on")


class Me(Closed):
    user: User
    tenants: list[Membership]


# ---- /api/dashboards/{persona}


class TenantMeta(Extensible):
    id: str
    name: str
    environment: str


class PeriodWindow(Closed):
    key: str = Field(description="7d | 28d | 90d | 365d")
    days: int
    start: str
    end: str


class SnapshotMeta(Closed):
    computed_at: str | None
    age_s: int | None
    max_staleness_s: int
    refresh_interval_s: int
    persona_staleness_s: int
    stale: bool
    has_panel_rows: bool


class Health(Extensible):
    score: Number | None
    status: str = Field(description="the verdict band: healthy | watch | critical | unknown")
    label: str
    reason: Any = None
    dimensions: list[Open]
    evidence: Open | None


class Dashboard(Closed):
    tenant: TenantMeta
    persona: str
    title: str
    window: str
    default_window: str
    period: PeriodWindow
    snapshot: SnapshotMeta
    health: Health
    panels: list[Open] = Field(description="per-panel payloads: items, rows and evidence by panel kind")
    maintenance: list[Open] = Field(description="KPIs paused by the control plane, with reason and ETA")


# ---- /api/runs/{run_id}


class Link(Closed):
    run_id: str
    href: str


class RunEvidence(Closed):
    run: Open = Field(description="the run header with its terminal status, duration and error")
    sourcing: list[Open]
    pre_validation: list[Open]
    post_validation: list[Open]
    delivery: Open | None
    corrects: Link | None = Field(description="the run this one restates, if it is a correction")
    corrections: list[Open]


class Correction(Closed):
    tenant_id: str
    run_id: str = Field(description="the new run: `<run_id>-c<n>`")
    corrects: str
    kpi_id: str
    status: str
    values: Open = Field(description="per period: the delivered and the restated value")
    reason: str
    corrected_by: str
    audit_seq: int
    href: str


# ---- drill-downs: envelopes (their sections are open: `available`, `reason` and items per source)


class Drill(Extensible):
    tenant_id: str


class PeriodDrill(Drill):
    period: str


class Breakdown(PeriodDrill):
    computed_at: str | None
    available: bool
    reason: Any
    breakdown: Open | None


class Listing(PeriodDrill):
    available: bool
    reason: Any
    items: list[Open]


class KpiDrill(PeriodDrill):
    computed_at: str | None
    kpi: Open | None
    breakdown: Open
    contract: Open
    services: Open
    endpoints: Open


class ServiceDrill(PeriodDrill):
    service: Open
    card: Open | None
    deployments: Open
    incidents: Open
    slo: Open
    endpoints: Open


class IncidentDrill(Drill):
    incident: Open
    timeline: list[Open]
    changes: Open
    caused_by: Open


class DeploymentDrill(Drill):
    deployment: Open
    statuses: list[Open]
    commits: Open
    diff: Open


class ControlDrill(Drill):
    framework: str
    control_id: str
    available: bool
    reason: Any
    items: list[Open] = Field(default_factory=list, description="present when unavailable (empty)")


# ---- /api/monitoring/*


class MonitoringWindow(Closed):
    days: int
    start: str
    end: str


class Monitoring(Extensible):
    tenant_id: str
    window: MonitoringWindow
    kpi_id: str | None
    truncated: bool
    count: int


class RunsOverview(Monitoring):
    runs: list[Open]


class ValidationSummary(Monitoring):
    runs: list[Open]


class LineageSources(Monitoring):
    sources: list[Open]


class SlaViolations(Monitoring):
    violations: list[Open]


class MonitoringDashboard(Monitoring):
    audience: str
