"""Services: a service card (its band from its SLO rows and open incidents, verdict.service), the
platform status summary, and the platform and service-map panels.
"""

from __future__ import annotations

from typing import Any

from companyos.domain import verdict
from companyos.domain.layouts import Panel
from companyos.domain.verdict import Band
from companyos.views.panels.context import INCIDENT_SOURCE, Ctx, drill, not_built, not_built_reason
from companyos.views.panels.incidents import open_incidents, when


def service_status(
    svc: dict[str, Any],
    slo: dict[str, Any] | None,
    incs: dict[str, Any] | None,
    deploys: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A service card: its band from verdict.service (its worst SLO row, Critical with an open
    P1/P2) and whether it is operational (verdict.operational); None when that is not known (no
    incident source, or neither an SLO nor an incident source)."""
    name = svc["service"]
    slo_rows = [r for r in (slo or {}).get("items", []) if r.get("service") == name]
    bands = [verdict.parse(r.get("status")) for r in slo_rows]
    incidents_known = bool(incs and incs.get("available"))
    open_ = open_incidents(incs, name)
    priorities = [i.get("priority") for i in open_]
    band = verdict.service(bands, priorities)
    operational: bool | None
    if any(b.is_bad for b in bands) or any(p in verdict.BLOCKING_PRIORITIES for p in priorities):
        operational = False
    elif not incidents_known:
        operational = None  # an open P1/P2 would not be seen
    else:
        operational = verdict.operational(bands, priorities)
    parts: list[str] = []
    for r in slo_rows:
        cells = r.get("cells") or {}
        parts.append(
            f"SLO {cells.get('actual') or 'Unknown'} (budget left {cells.get('budget_left') or 'Unknown'})"
        )
    if not slo_rows:
        parts.append("no SLO measured")
    if incidents_known:
        worst_open = ", ".join(sorted({i["priority"] for i in open_ if i.get("priority")}))
        parts.append(
            f"{len(open_)} open incident{'' if len(open_) == 1 else 's'}"
            + (f" ({worst_open})" if worst_open else "")
            if open_
            else "no open incident"
        )
    else:
        parts.append("incidents unknown (no PagerDuty events)")
    dep = next((s for s in (deploys or {}).get("per_service", []) if s["service"] == name), None)
    if dep:
        rate = 100.0 * dep["failed"] / dep["total"]
        shown = f"{rate:.2f}".rstrip("0").rstrip(".")  # as the service drill-down prints it
        parts.append(f"{dep['failed']} of {dep['total']} production deploys failed ({shown}%)")
    evidence = (slo_rows[0].get("evidence") if slo_rows else None) or (
        incs["evidence"] if incidents_known and incs else None
    )
    return {
        "id": name,
        "name": name,
        "group": svc.get("domain"),
        "status": band,
        "operational": operational,
        "value": len(open_) if incidents_known else None,  # its open incidents
        "detail": "; ".join(parts),
        "reason": None if band is not Band.UNKNOWN else "; ".join(parts),
        "evidence": evidence,
        "drill": drill("service", name),
    }


def platform_summary(items: list[dict[str, Any]], incs: dict[str, Any] | None) -> dict[str, Any]:
    """ "All services operational" only when every service is (verdict.operational); otherwise how
    many are not, or Unknown when that is not known for any."""
    n = len(items)
    down = [i for i in items if i["operational"] is False]
    unknown = [i for i in items if i["operational"] is None]
    band = verdict.worst(i["status"] for i in items)
    if len(unknown) == n:
        return {
            "status": Band.UNKNOWN,
            "label": "Unknown",
            "value": None,
            "detail": "whether services are operational needs their SLOs and open incidents "
            f"({INCIDENT_SOURCE}, {n} service{'' if n == 1 else 's'} in the catalog)",
            "evidence": None,
        }
    if down:
        label = f"{len(down)} of {n} services not operational: {', '.join(i['name'] for i in down)}"
    elif unknown:
        label = f"{n - len(unknown)} of {n} services operational ({len(unknown)} not known)"
    else:
        label = "All services operational"
    detail = None
    if incs and incs.get("available"):
        last_p1 = when(incs.get("last_p1_at"))
        detail = (
            f"{incs['open']} open incident{'' if incs['open'] == 1 else 's'} · last P1: "
            f"{last_p1 or 'none in the last 90 days'}"
        )
    return {
        "status": band,
        "label": label,
        "value": len(down),
        "detail": detail,
        "evidence": (incs or {}).get("evidence") if incs and incs.get("available") else None,
    }


def platform(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    """Platform status: each catalogued service from its SLOs and open incidents (verdict.service)."""
    services = ctx.rows("services")
    if not services or not services.get("available"):
        return not_built(panel, not_built_reason(panel, services))
    incs = ctx.rows("incidents")
    items = [service_status(s, ctx.rows("slo"), incs) for s in services["items"]]
    return {"items": items, "summary": platform_summary(items, incs)}


def service_map(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    services = ctx.rows("services")
    if not services or not services.get("available"):
        return not_built(panel, not_built_reason(panel, services))
    deploys = ctx.rows("deployments")
    items = [service_status(s, ctx.rows("slo"), ctx.rows("incidents"), deploys) for s in services["items"]]
    return {
        "items": items,
        "summary": {
            "status": verdict.worst(i["status"] for i in items),
            "label": f"{len(items)} services",
            "detail": "dependencies between services are unknown: no trace or service-mesh source",
            "value": len(items),
            "evidence": (deploys or {}).get("evidence"),
        },
    }
