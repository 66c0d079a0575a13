"""A service and the dependency explorer: one service's card, deployments, incidents and SLO (the
delivered numbers with the raw records behind them), and the service map with health.
"""

from __future__ import annotations

from typing import Any

from companyos.domain.auth import Principal
from companyos.domain.errors import NotFound
from companyos.views import panels, panels_data
from companyos.views.drilldown import traffic
from companyos.views.drilldown.base import authorized, latest_snapshot, unavailable
from companyos.views.drilldown.incidents import incident_row
from companyos.views.drilldown.slos import service_slo


def service(principal: Principal, tenant_id: str, name: str, period: str) -> dict[str, Any]:
    now, days = authorized(principal, tenant_id, period)
    known = panels_data.catalog_services(tenant_id)
    if name not in known:
        raise NotFound(f"no service '{name}' in this tenant's catalog", code="service_not_found")
    deps = [d for d in panels_data.deployment_rows(panels_data.signals(tenant_id, "deployment", days, now))]
    deps = [d for d in deps if d["service"] == name]
    incs = [
        i
        for i in panels_data.fold_incidents(panels_data.signals(tenant_id, "incident", days, now))
        if i["service"] == name
    ]
    prod = [d for d in deps if panels_data.is_production(d)]
    failed = sum(1 for d in prod if not d["succeeded"])
    snapshot, _ = latest_snapshot(tenant_id, period)
    ctx = panels.Ctx(tenant_id, period, snapshot)
    card = (  # the band its dashboard card shows, by the same rule (verdict.service)
        panels.service_status(known[name], ctx.rows("slo"), ctx.rows("incidents"), ctx.rows("deployments"))
        if snapshot
        else None
    )
    deployments = {
        "available": bool(prod),
        "reason": None if prod else f"no production deployments of {name} in the last {days} days",
        "total": len(prod),
        "failed": failed,
        "change_failure_pct": 100.0 * failed / len(prod) if prod else None,
        "items": prod[: panels_data.MAX_ROWS],  # the raw records: evidence themselves
    }
    return {
        "tenant_id": tenant_id,
        "period": period,
        "service": known[name],
        "card": card,
        "deployments": deployments | _delivered_deploys(ctx.rows("deployments"), name),
        "incidents": {
            "available": bool(incs),
            "reason": None if incs else f"no PagerDuty incidents on {name} in the last {days} days",
            "items": [incident_row(i) for i in incs],
        },
        "slo": _delivered_slo(service_slo(tenant_id, name, days, now), ctx.rows("slo"), name),
        "endpoints": traffic.endpoints(ctx, now, days, service=name),
    }


def _row_of(rows: dict[str, Any] | None, key: str, name: str) -> dict[str, Any] | None:
    if not rows or not rows.get("available"):
        return None
    return next((r for r in rows.get(key) or [] if r.get("service") == name or r.get("id") == name), None)


def _delivered_deploys(rows: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The period's counts as the deployment_frequency run delivered them (its per-service row,
    with the run as evidence); the drill-down's own list is the raw records behind them."""
    row = _row_of(rows, "per_service", name)
    if row is None:
        return {}
    total, failed = int(row["total"]), int(row["failed"])
    return {
        "total": total,
        "failed": failed,
        "change_failure_pct": 100.0 * failed / total if total else None,
        "evidence": row.get("evidence"),
    }


def _delivered_slo(live: dict[str, Any], rows: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The period's SLO numbers as the slo_attainment run delivered them (the SLO table's row,
    with the run as evidence); the per-day points and the alert windows stay the live detail
    behind them (`detail_evidence`: the signals)."""
    row = _row_of(rows, "items", name)
    if row is None or not live.get("available"):
        return live
    return live | {
        "good": row["good"],
        "total": row["total"],
        "attainment": row["value"],
        "budget_left": row["budget_left"],
        "burn_rate": row["burn_rate"],
        "status": row["status"],
        "evidence": row.get("evidence"),
        "detail_evidence": live.get("evidence"),
    }


def service_map(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    """Services with their health, as the dashboards' service cards show it (the snapshot's rows:
    SLO rows and open incidents, verdict.service) and the dependencies between them (service-graph
    edges with request rate and error ratio, delivered with the slo_attainment run)."""
    authorized(principal, tenant_id, period)
    snapshot, _ = latest_snapshot(tenant_id, period)
    ctx = panels.Ctx(tenant_id, period, snapshot)
    services = ctx.rows("services")
    if not services or not services.get("available"):
        reason = (services or {}).get("reason") or panels.NO_SNAPSHOT
        return {"tenant_id": tenant_id, "period": period, **unavailable(reason), "edges": None}
    nodes = [
        panels.service_status(s, ctx.rows("slo"), ctx.rows("incidents"), ctx.rows("deployments"))
        for s in services["items"]
    ]
    return {
        "tenant_id": tenant_id,
        "period": period,
        "available": True,
        "reason": None,
        "summary": panels.platform_summary(nodes, ctx.rows("incidents")),
        "items": nodes,
        "edges": traffic.edges(ctx, {str(n.get("id")) for n in nodes}),
    }
