"""Panel builders: one persona panel from the one precomputed snapshot (no further reads).

A builder turns the snapshot's KPI entries, health summary or stored panel rows
(views/panels_data.py) into the panel `kind` the web app renders (docs/cockpit-api.md). Every
item that carries a number carries its evidence (a KPI run, the score breakdown, or the signals it
was folded from). What the snapshot does not have is Unknown or `not_built`, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from companyos.model import kpis, normalise, scoring
from companyos.views.layouts import Panel

NO_SNAPSHOT = "no score snapshot has been computed for this tenant yet"
_BAD = ("critical", "warning")
_RANK = {"critical": 0, "warning": 1, "attention": 2, "healthy": 3, "excellent": 4, "unknown": 5}


_PD = "PagerDuty incident ingestion"


def _rank(status: str) -> int:
    return _RANK.get(status, 9)


@dataclass(frozen=True)
class Ctx:
    tenant_id: str
    period: str
    snapshot: dict[str, Any] | None

    @property
    def computed_at(self) -> str | None:
        return (self.snapshot or {}).get("computed_at")

    def rows(self, key: str) -> dict[str, Any] | None:
        """Stored panel rows of the snapshot, or None when the refresh stored none for this key."""
        entry = ((self.snapshot or {}).get("panels") or {}).get(key)
        return entry if isinstance(entry, dict) else None

    def breakdown_evidence(self, node: str) -> dict[str, Any]:
        return {
            "type": "score",
            "computed_at": self.computed_at,
            "model_version": ((self.snapshot or {}).get("health") or {}).get("model_version"),
            "node": node,
            "href": f"/api/scores/breakdown?tenant={quote(self.tenant_id)}&period={self.period}",
        }


def drill(kind: str, ident: str = "") -> dict[str, str]:
    return {"kind": kind, "id": ident}


# ------------------------------------------------------------------------------ KPI tiles

_TILE_FIELDS = (
    "kpi_id",
    "name",
    "unit",
    "value",
    "display",
    "status",
    "reason",
    "level",
    "series",
    "evidence",
)


def kpi_tile(entry: dict[str, Any]) -> dict[str, Any]:
    tile = {k: entry.get(k) for k in _TILE_FIELDS}
    defn = kpis.load_dictionary().get(entry["kpi_id"])
    prev, cur = entry.get("previous"), entry.get("value")
    tile.update(
        id=entry["kpi_id"],
        dimension=defn.dimension,
        target=defn.format_value(defn.target),
        critical=defn.format_value(defn.critical),
        delta={"previous": prev, "change": cur - prev} if cur is not None and prev is not None else None,
        drill=drill("kpi", entry["kpi_id"]),
    )
    if cur is None:  # a value we do not have is Unknown, whatever the entry says
        tile.update(status="unknown", display="Unknown", evidence=entry.get("evidence"))
    return tile


def unknown_tile(kpi_id: str, reason: str = NO_SNAPSHOT) -> dict[str, Any]:
    defn = kpis.load_dictionary().get(kpi_id)
    return {
        "id": kpi_id,
        "kpi_id": kpi_id,
        "name": defn.name,
        "unit": defn.unit,
        "value": None,
        "display": "Unknown",
        "status": "unknown",
        "reason": reason,
        "level": None,
        "series": [],
        "evidence": None,
        "dimension": defn.dimension,
        "target": defn.format_value(defn.target),
        "critical": defn.format_value(defn.critical),
        "delta": None,
        "drill": drill("kpi", kpi_id),
    }


def tiles_for(ctx: Ctx, kpi_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    entries = (ctx.snapshot or {}).get("kpis", {})
    return [kpi_tile(entries[k]) if k in entries else unknown_tile(k) for k in kpi_ids]


def metric_tile(
    ident: str,
    name: str,
    value: float | None,
    display: str,
    status: str,
    reason: str | None,
    evidence: dict[str, Any] | None,
    unit: str = "count",
    drill_to: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A tile whose number is folded from signals (not a KPI run): same shape, `kpi_id` None."""
    known = value is not None
    return {
        "id": ident,
        "kpi_id": None,
        "name": name,
        "unit": unit,
        "value": value,
        "display": display if known else "Unknown",
        "status": status if known else "unknown",
        "reason": reason,
        "level": None,
        "series": [],
        "evidence": evidence if known else None,
        "dimension": None,
        "target": None,
        "critical": None,
        "delta": None,
        "drill": drill_to,
    }


# ------------------------------------------------------------------------------ health-based panels


def _dimension_item(ctx: Ctx, dim: dict[str, Any]) -> dict[str, Any]:
    score = dim.get("score")
    band = scoring.band(score)
    return {
        "id": dim["id"],
        "name": dim.get("name") or dim["id"],
        "weight": dim.get("weight"),
        "value": score,
        "display": f"{score:.0f}" if score is not None else "Unknown",
        "status": band.value,
        "label": band.label,
        "reason": dim.get("reason"),
        "evidence": ctx.breakdown_evidence(dim["id"]) if score is not None else None,
        "drill": drill("score", dim["id"]),
    }


def dimensions(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    dims = ((ctx.snapshot or {}).get("health") or {}).get("dimensions") or []
    if not dims:
        return not_built(panel, NO_SNAPSHOT)
    return {"items": [_dimension_item(ctx, d) for d in dims]}


def dimension_score(dimension: str) -> Callable[[Panel, Ctx], dict[str, Any]]:
    def build(panel: Panel, ctx: Ctx) -> dict[str, Any]:
        dims = ((ctx.snapshot or {}).get("health") or {}).get("dimensions") or []
        found = next((d for d in dims if d["id"] == dimension), None)
        if found is None:
            name = kpis.load_dictionary().dimensions[dimension].name  # type: ignore[index]
            found = {"id": dimension, "name": name, "score": None, "reason": NO_SNAPSHOT}
        return {"items": [_dimension_item(ctx, found)]}

    return build


def risks(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    """Key risks: KPIs and dimensions with data that are in Warning or Critical, worst first."""
    if not ctx.snapshot:
        return not_built(panel, NO_SNAPSHOT)
    entries = list(ctx.snapshot.get("kpis", {}).values())
    known = [e for e in entries if e.get("value") is not None]
    items = []
    for e in sorted(known, key=lambda e: (_RANK.get(e.get("status", ""), 9), e.get("score") or 0)):
        if e.get("status") not in _BAD:
            continue
        defn = kpis.load_dictionary().get(e["kpi_id"])
        items.append(
            {
                "id": f"kpi:{e['kpi_id']}",
                "title": f"{e['name']} is {e['status'].capitalize()}: {e['display']}",
                "detail": f"target {defn.format_value(defn.target)}, "
                f"critical {defn.format_value(defn.critical)}",
                "status": e["status"],
                "value": e["value"],
                "evidence": e.get("evidence"),
                "drill": drill("kpi", e["kpi_id"]),
            }
        )
    for d in (ctx.snapshot.get("health") or {}).get("dimensions") or []:
        item = _dimension_item(ctx, d)
        if item["status"] in _BAD:
            items.append(
                {
                    "id": f"dimension:{d['id']}",
                    "title": f"{item['name']} dimension is {item['label']}: {item['display']}/100",
                    "detail": d.get("reason"),
                    "status": item["status"],
                    "value": item["value"],
                    "evidence": item["evidence"],
                    "drill": item["drill"],
                }
            )
    summary = (
        f"{len(items)} risk(s) from the {len(known)} of {len(entries)} KPIs with data"
        if items
        else f"None of the {len(known)} of {len(entries)} KPIs with data is in Warning or Critical"
    )
    return {"items": items[:8], "summary": summary}


# ------------------------------------------------------------------------------ signal-based panels


def _severity_status(priority: str | None, urgency: str | None) -> str:
    if priority in ("P1", "P2") or urgency == "high":
        return "critical"
    return "warning"


def incidents(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    data = ctx.rows("incidents")
    if not data or not data.get("available"):
        return not_built(panel, _why(panel, data))
    items = []
    for i in data["items"]:
        status = "healthy" if i["status"] == "resolved" else _severity_status(i["priority"], i["urgency"])
        items.append(
            {
                "id": i["id"],
                "at": i["triggered_at"],
                "title": i["title"] or f"Incident {i['number'] or i['id']}",
                "severity": i["priority"] or (i["urgency"] or "").capitalize() or None,
                "status": status,
                "state": i["status"],
                "service": i["service"] or i["service_name"] or i["service_id"],
                "value": i["duration_s"],
                "display": _duration(i["duration_s"]) if i["duration_s"] is not None else "ongoing",
                "detail": _incident_detail(i),
                "evidence": {
                    **data["evidence"],
                    "href": f"/api/drill/incidents/{quote(i['id'])}?tenant={ctx.tenant_id}",
                },
                "drill": drill("incident", i["id"]),
            }
        )
    return {
        "items": items,
        "summary": f"{data['open']} open · {data['in_window']} in the last {data['window_days']} days",
        "evidence": data["evidence"],
    }


def _incident_detail(i: dict[str, Any]) -> str:
    parts = [f"#{i['number']}" if i.get("number") else None, i["status"].capitalize()]
    if i.get("time_to_ack_s") is not None:
        parts.append(f"acknowledged after {_duration(i['time_to_ack_s'])}")
    return " · ".join(p for p in parts if p)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "Unknown"
    s = max(0.0, seconds)
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def service_status(
    svc: dict[str, Any], deploys: dict[str, Any] | None, incs: dict[str, Any] | None
) -> dict[str, Any]:
    name = svc["service"]
    parts: list[str] = []
    statuses: list[str] = []
    evidence = None
    value = None
    if incs and incs.get("available"):
        open_ = [i for i in incs["items"] if i["service"] == name and i["status"] != "resolved"]
        if open_:
            worst = min((_severity_status(i["priority"], i["urgency"]) for i in open_), key=_rank)
            statuses.append(worst)
            parts.append(f"{len(open_)} open incident(s)")
        else:
            statuses.append("healthy")
            parts.append("no open incident")
        evidence = incs["evidence"]
        value = len(open_)  # open incidents of the service (the platform status' number)
    else:
        parts.append("incidents unknown (no PagerDuty events)")
    dep = next((s for s in (deploys or {}).get("per_service", []) if s["service"] == name), None)
    if dep:
        rate = 100.0 * dep["failed"] / dep["total"]
        band = scoring.band(normalise.normalise(kpis.load_dictionary().get("change_failure_rate"), rate))
        statuses.append(band.value)
        value = rate  # with deploy stats the number is the service's change failure rate
        parts.append(f"{dep['failed']} of {dep['total']} production deploys failed ({rate:.1f}%)")
        evidence = evidence or (deploys or {}).get("evidence")
    known = [s for s in statuses if s != "unknown"]
    status = min(known, key=_rank) if known else "unknown"
    return {
        "id": name,
        "name": name,
        "group": svc.get("domain"),
        "status": status,
        "value": value,
        "detail": "; ".join(parts),
        "reason": None if known else "; ".join(parts),
        "evidence": evidence,
        "drill": drill("service", name),
    }


def platform(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    """Platform status: each catalogued service, from open incidents (and deploy health)."""
    services = ctx.rows("services")
    incs = ctx.rows("incidents")
    if not services or not services.get("available"):
        return not_built(panel, _why(panel, services))
    items = [service_status(s, None, incs) for s in services["items"]]
    if incs and incs.get("available"):
        n_open = incs["open"]
        headline = "All services operational" if n_open == 0 else f"{n_open} incident(s) open"
        summary = {
            "status": "healthy" if n_open == 0 else "critical",
            "label": headline,
            "value": n_open,
            "detail": f"last P1: {incs['last_p1_at'] or 'none in the last 90 days'}",
            "evidence": incs["evidence"],
        }
    else:
        summary = {
            "status": "unknown",
            "label": "Unknown",
            "value": None,
            "detail": f"Not built yet: needs {panel.needs}",
            "evidence": None,
        }
    return {"items": items, "summary": summary}


def service_map(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    services = ctx.rows("services")
    if not services or not services.get("available"):
        return not_built(panel, _why(panel, services))
    deploys = ctx.rows("deployments")
    items = [service_status(s, deploys, ctx.rows("incidents")) for s in services["items"]]
    return {
        "items": items,
        "summary": {
            "status": min((i["status"] for i in items), key=_rank, default="unknown"),
            "label": f"{len(items)} services",
            "detail": "dependencies between services are unknown: no trace or service-mesh source",
            "value": len(items),
            "evidence": (deploys or {}).get("evidence"),
        },
    }


def ops_headline(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    incs = ctx.rows("incidents")
    deps = ctx.rows("deployments")
    items = []
    if incs and incs.get("available"):
        n = incs["open"]
        items.append(
            metric_tile(
                "active_incidents",
                "Active incidents",
                n,
                str(n),
                "healthy" if n == 0 else "critical",
                "Clear" if n == 0 else None,
                incs["evidence"],
                drill_to=drill("incidents"),
            )
        )
    else:
        items.append(
            metric_tile(
                "active_incidents",
                "Active incidents",
                None,
                "",
                "unknown",
                f"Not built yet: needs {_PD}",
                None,
            )
        )
    if deps and deps.get("available"):
        t = deps["today"]
        items.append(
            metric_tile(
                "deploys_today",
                "Deploys today",
                t["total"],
                str(t["total"]),
                "healthy" if t["failed"] == 0 else "attention",
                "All succeeded" if t["failed"] == 0 else f"{t['failed']} failed",
                deps["evidence"],
                drill_to=drill("changes"),
            )
        )
    else:
        reason = (deps or {}).get("reason") or NO_SNAPSHOT
        items.append(metric_tile("deploys_today", "Deploys today", None, "", "unknown", reason, None))
    items.append(infra_cost_tile(ctx))
    items.extend(tiles_for(ctx, ("infra_utilization",)))
    return {"items": items}


def infra_cost_tile(ctx: Ctx) -> dict[str, Any]:
    """Infra cost (MTD) from the latest infra_cost_mtd run (views/panels_data._infra_cost_entry)."""
    cost = ctx.rows("infra_cost")
    if not cost or not cost.get("available"):
        reason = (cost or {}).get("reason") or NO_SNAPSHOT
        return metric_tile(
            "infra_cost_mtd", "Infra cost (MTD)", None, "", "unknown", reason, None, unit="usd"
        )
    tile = metric_tile(
        "infra_cost_mtd",
        "Infra cost (MTD)",
        cost["value"],
        cost["display"],
        cost["status"],
        cost["reason"],
        cost["evidence"],
        unit="usd",
    )
    previous = cost.get("previous")
    tile.update(  # a contract outside the KPI dictionary: evidence opens its run, no KPI drill-down
        series=cost.get("series") or [],
        delta={"previous": previous, "change": cost["value"] - previous} if previous is not None else None,
    )
    return tile


def kpi_summary(ctx: Ctx, kpi_id: str, detail: str | None) -> dict[str, Any]:
    """A panel's headline from its KPI's delivered run (the snapshot entry): value, status and the
    run as evidence; Unknown with the KPI's reason when the run delivered no value."""
    entries = (ctx.snapshot or {}).get("kpis", {})
    tile = kpi_tile(entries[kpi_id]) if kpi_id in entries else unknown_tile(kpi_id)
    known = tile["value"] is not None
    return {
        "kpi_id": kpi_id,
        "name": tile["name"],
        "label": f"{tile['name']} {tile['display']}",
        "value": tile["value"],
        "display": tile["display"],
        "status": tile["status"],
        "detail": detail if known else f"{tile['reason'] or 'no delivered run'}; {detail or ''}".strip("; "),
        "evidence": tile["evidence"] if known else None,
        "drill": tile["drill"],
    }


def with_kpi(kpi_id: str) -> Callable[[Panel, Ctx], dict[str, Any]]:
    """A stored panel (rows folded from signals) headed by the delivered value of the KPI its
    rows explain, e.g. the SLO table by slo_attainment: the rows break the KPI down per service."""

    def build(panel: Panel, ctx: Ctx) -> dict[str, Any]:
        body = stored(panel, ctx)
        if body.get("kind") == "not_built":
            return body
        text = body.get("summary")
        return {**body, "summary": kpi_summary(ctx, kpi_id, text if isinstance(text, str) else None)}

    return build


def stored(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    """Panels whose rows a refresh step stores ready-made in the panel's kind (`items`, ...)."""
    data = ctx.rows(panel.source)
    if not data or not data.get("available"):
        return not_built(panel, _why(panel, data))
    return {k: v for k, v in data.items() if k not in ("available", "reason")}


# ------------------------------------------------------------------------------ links, not built

DRILL_LABELS = {
    "score": "Score breakdown",
    "incidents": "Incident history",
    "changes": "Change correlation",
    "services": "Service map",
}


def links(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    return {"items": [{"id": k, "label": DRILL_LABELS[k], "drill": drill(k)} for k in panel.drills]}


def _why(panel: Panel, data: dict[str, Any] | None) -> str:
    if data and data.get("reason"):
        return f"Not built yet: needs {panel.needs} ({data['reason']})."
    return f"Not built yet: needs {panel.needs}."


def not_built(panel: Panel, reason: str) -> dict[str, Any]:
    return {"kind": "not_built", "intended_kind": panel.kind, "reason": reason, "items": []}


BUILDERS: dict[str, Callable[[Panel, Ctx], dict[str, Any]]] = {
    "dimensions": dimensions,
    "risks": risks,
    "score:security": dimension_score("security"),
    "score:product": dimension_score("product"),
    "platform": platform,
    "service_map": service_map,
    "incidents": incidents,
    "ops_headline": ops_headline,
    "slo": with_kpi("slo_attainment"),
    "burn": with_kpi("error_budget_burn_rate"),
    "capacity": with_kpi("infra_utilization"),
    "links": links,
}


def build(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    head = {"id": panel.id, "title": panel.title, "kind": panel.kind, "width": panel.width}
    if panel.kpis:
        return {**head, "items": tiles_for(ctx, panel.kpis)}
    if not panel.source:
        return {**head, **not_built(panel, f"Not built yet: needs {panel.needs}.")}
    body = BUILDERS.get(panel.source, stored)(panel, ctx)
    for item in body.get("items", []):
        item.setdefault("kpi_id", None)  # every item says whether it is a KPI (null: it is not)
    return {**head, "items": [], **body}
