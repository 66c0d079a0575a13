"""Endpoint metrics, service-graph edges and trace / log deep links for the drill-downs.

The numbers are the `endpoints` / `dependencies` rows the slo_attainment run delivered with its
value (runs/rows_traffic.py, copied into the snapshot with the run as evidence): the drill-down
filters and links them, never recomputes them. Deep links come from the tenant's URL templates
(sources/deeplinks.py) over the period's or the incident's window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companyos.runs.rows import window_start
from companyos.sources import deeplinks
from companyos.views import panels
from companyos.views.drilldown.base import unavailable

TRAFFIC_KPI_KIND = "slo_window"  # the KPIs whose runs read the windows the endpoint rows come from
INCIDENT_MARGIN = timedelta(minutes=30)  # traces / logs from a little before to a little after


def _from_snapshot(ctx: panels.Ctx, key: str) -> dict[str, Any] | None:
    """The delivered rows, or the `available: false` answer saying why there are none."""
    if ctx.snapshot is None:
        return unavailable(panels.NO_SNAPSHOT)
    rows = ctx.rows(key)
    if rows is None:
        return unavailable(
            f"the latest snapshot carries no {key} rows: no slo_attainment run delivered them yet"
        )
    if not rows.get("available"):
        return unavailable(str(rows.get("reason")))
    return None


def endpoints(
    ctx: panels.Ctx, now: datetime, days: int, service: str | None = None, kinds: list[str] | None = None
) -> dict[str, Any]:
    """The endpoint rows delivered with the slo_attainment run (one service's, when given), each
    with its trace / log deep links over the period the rows cover (ending at the run's as_of)."""
    if kinds is not None and TRAFFIC_KPI_KIND not in kinds:
        return unavailable(
            "this KPI is not measured per endpoint: per-endpoint request rate, errors and latency"
            " (from Prometheus) are delivered with the SLO Attainment run; its deep dive shows them"
        )
    missing = _from_snapshot(ctx, "endpoints")
    if missing:
        return missing
    rows = ctx.rows("endpoints") or {}
    items = [i for i in rows.get("items") or [] if service is None or i.get("service") == service]
    if not items:
        return unavailable(f"the slo_attainment run delivered no endpoint rows for {service}")
    config = deeplinks.load_config(ctx.tenant_id)
    # the links cover the window the numbers cover: the run's period ending at its as_of
    as_of = (rows.get("evidence") or {}).get("as_of")
    end = datetime.fromisoformat(as_of) if as_of else now
    start = window_start(end, int(rows.get("window_days") or days))
    linked = [
        {
            **i,
            "links": deeplinks.links(config, start, end, i["route"], service=i["service"], route=i["route"]),
        }
        for i in items
    ]
    return {
        "available": True,
        "reason": None,
        "window_days": rows.get("window_days"),
        "errors_pulled": rows.get("errors_pulled"),
        "summary": rows.get("summary"),
        "items": linked,
        "evidence": rows.get("evidence"),
    }


def edges(ctx: panels.Ctx, known: set[str]) -> dict[str, Any]:
    """The service-graph edges delivered with the slo_attainment run; an end that is a catalog
    service links to its drill-down."""
    missing = _from_snapshot(ctx, "dependencies")
    if missing:
        return missing
    rows = ctx.rows("dependencies") or {}
    items = [
        {
            **e,
            "client_drill": panels.drill("service", e["client"]) if e.get("client") in known else None,
            "server_drill": panels.drill("service", e["server"]) if e.get("server") in known else None,
        }
        for e in rows.get("items") or []
    ]
    return {
        "available": True,
        "reason": None,
        "window_days": rows.get("window_days"),
        "summary": rows.get("summary"),
        "items": items,
        "evidence": rows.get("evidence"),
    }


def incident_links(tenant_id: str, incident: dict[str, Any], now: datetime) -> dict[str, dict[str, Any]]:
    """Trace and log links of an incident's service over its window (triggered → resolved, or now
    while open, with a margin either side)."""
    if not incident.get("triggered_at"):
        why = "the incident has no trigger time to search traces and logs around"
        return {"traces": unavailable(why), "logs": unavailable(why)}
    start = datetime.fromisoformat(incident["triggered_at"]) - INCIDENT_MARGIN
    end = datetime.fromisoformat(incident["resolved_at"]) if incident.get("resolved_at") else now
    return deeplinks.links(
        deeplinks.load_config(tenant_id),
        start,
        min(end + INCIDENT_MARGIN, now),
        f"{incident.get('service') or 'the service'} around incident"
        f" {incident.get('number') or incident.get('id')}",
        service=incident.get("service") or incident.get("service_name"),
        incident_id=str(incident.get("id") or ""),
    )
