"""Assemble a persona dashboard from one precomputed snapshot (at most 2 DynamoDB reads, no Scan).

Request 1 is the snapshot item (`ScoreStore.latest(period)`); request 2 is the tenant's pauses in
force (one Query: maintenance badges) when there is a snapshot, or the tenant's name from the
catalog when there is none yet. Every panel is built from that one item
(views/panels/); nothing here reads signals or runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.repos import Catalog, ScoreStore
from companyos.admin.catalog import maintenance
from companyos.domain import clock, kpis, verdict
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import InvalidPayload
from companyos.domain.layouts import LAYOUTS
from companyos.domain.verdict import Band
from companyos.runs import contracts
from companyos.runs.contracts import PERIODS
from companyos.topology import SCHEDULES
from companyos.views import panels

# A snapshot is late once its next refresh is this much overdue (a tick's KPI runs take a while).
REFRESH_GRACE_S = 120


def refresh_interval_s() -> int:
    """How often a tenant's snapshot is renewed: the score refresh is the last step of every KPI
    run execution (statemachines/kpi_run.asl.json, RefreshScores), and executions start on the
    schedules of topology.SCHEDULES, so the most frequent schedule that has KPIs sets the cadence."""
    return min(s.local_interval_s for s in SCHEDULES if contracts.of_schedule(s.schedule_class))


def staleness_limit_s(persona_limit_s: int) -> int:
    """When a persona's page is Stale: after the spec's freshness requirement for the persona, but
    never before the next refresh (plus a grace) could have renewed it — a limit shorter than the
    refresh cadence would mark every page Stale minutes after each refresh."""
    return max(persona_limit_s, refresh_interval_s() + REFRESH_GRACE_S)


def check_period(period: str) -> None:
    if period not in PERIODS:
        raise InvalidPayload(
            f"period must be one of {', '.join(PERIODS)}", code="invalid_period", details={"path": "period"}
        )


def _health(snapshot: dict[str, Any] | None, ctx: panels.Ctx) -> dict[str, Any]:
    if not snapshot:
        return {
            "score": None,
            "status": Band.UNKNOWN,
            "label": "Unknown",
            "reason": panels.NO_SNAPSHOT,
            "dimensions": [],
            "evidence": None,
        }
    health = snapshot["health"]
    band = verdict.parse(health.get("status"))  # judged once, at refresh, with its coverage
    evidence = ctx.breakdown_evidence("composite") if health.get("score") is not None else None
    delta = ctx.trend("composite", health.get("score"), health.get("known_weight"))
    return {
        **health,
        "status": band,
        "label": band.label,
        "partial": panels.plain(health.get("partial"), with_dimensions=True),
        "reason": panels.plain(health.get("reason"), with_dimensions=True),
        "dimensions": [
            {**d, "partial": panels.plain(d.get("partial")), "reason": panels.plain(d.get("reason"))}
            for d in health.get("dimensions") or []
        ],
        "delta": delta,
        "evidence": evidence,
    }


def dashboard(
    principal: Principal, tenant_id: str, persona: str, period: str, now: datetime | None = None
) -> dict[str, Any]:
    authorize(principal, "dashboard:view", tenant_id, persona)
    check_period(period)
    layout = LAYOUTS[persona]
    now = now or clock.now()
    found = ScoreStore(tenant_id).latest(period)  # DynamoDB request 1
    snapshot, computed_at = found if found else (None, None)
    tenant = snapshot["tenant"] if snapshot else _tenant_meta(tenant_id)  # request 2 only without snapshot
    age = (now - computed_at).total_seconds() if computed_at else None
    limit = staleness_limit_s(layout.max_staleness_s)
    ctx = panels.Ctx(tenant_id, period, snapshot)
    built = [panels.build(p, ctx) for p in layout.panels]
    # request 2 with a snapshot: the pauses in force (admin control plane) → maintenance badges
    paused = maintenance(tenant_id, now) if snapshot else {}
    return {
        "tenant": tenant,
        "persona": persona,
        "title": layout.title,
        "window": f"Last {PERIODS[period]} days",  # the period asked for (the page's subtitle)
        "default_window": layout.window,  # the wireframe's default, e.g. "Last 30 days"
        "period": {
            "key": period,
            "days": PERIODS[period],
            "start": (now - timedelta(days=PERIODS[period])).isoformat(),
            "end": now.isoformat(),
        },
        "snapshot": {
            "computed_at": computed_at.isoformat() if computed_at else None,
            "age_s": round(age) if age is not None else None,
            "max_staleness_s": limit,
            "refresh_interval_s": refresh_interval_s(),
            "persona_staleness_s": layout.max_staleness_s,
            "stale": age is None or age > limit,
            "has_panel_rows": bool(snapshot and snapshot.get("panels")),
        },
        "health": _health(snapshot, ctx),
        "panels": _badge(built, paused),
        "maintenance": [{"kpi_id": k, "name": _kpi_name(k), **v} for k, v in sorted(paused.items())],
    }


def _badge(built: list[dict[str, Any]], paused: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item of a paused KPI carries its maintenance badge (reason, ETA, scope): its value is
    the last delivered one and will not move until the pause ends."""
    if not paused:
        return built
    for panel in built:
        for item in panel.get("items") or []:
            if isinstance(item, dict) and item.get("kpi_id") in paused:
                item["maintenance"] = paused[item["kpi_id"]]
    return built


def _kpi_name(kpi_id: str) -> str:
    try:
        return kpis.load_dictionary().get(kpi_id).name
    except kpis.UnknownKpiError:
        return kpi_id  # a tenant's own KPI outside the dictionary: its id is its name


def _tenant_meta(tenant_id: str) -> dict[str, Any]:
    t = Catalog().get_tenant(tenant_id)
    return {"id": t.id, "name": t.name, "environment": t.environment}
