"""Panel builders: one persona panel from the one precomputed snapshot (no further reads).

A builder turns the snapshot's KPI entries, health summary or stored panel rows
(views/panels_data.py) into the panel `kind` the web app renders (docs/cockpit-api.md). Every
item that carries a number carries its evidence (a KPI run, the score breakdown, or the signals it
was folded from). What the snapshot does not have is Unknown or `not_built`, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Any
from urllib.parse import quote

from companyos.domain import kpis, scoring, verdict
from companyos.domain.layouts import Panel
from companyos.domain.verdict import Band

NO_SNAPSHOT = "no score snapshot has been computed for this tenant yet"
RISKS_SHOWN = 8  # the Key risks list shows this many first; the rest behind "show all"


_PD = "PagerDuty incident ingestion"


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

    @cached_property
    def previous_health(self) -> scoring.HealthResult | None:
        """The previous period's health, scored by the model from the previous-period values the
        snapshot's KPI entries carry (None without a snapshot)."""
        entries = (self.snapshot or {}).get("kpis") or {}
        if not entries:
            return None
        return scoring.health({k: e.get("previous") for k, e in entries.items()})

    def previous_of(self, node: str) -> tuple[float | None, float] | None:
        """(score, coverage) of the composite or a dimension over the previous period: as the
        refresh judged it (`health.previous`), or, for a snapshot written before it stored one,
        scored by the model from the KPI entries' previous values."""
        stored = ((self.snapshot or {}).get("health") or {}).get("previous")
        if isinstance(stored, dict) and node in stored:
            return stored[node]["score"], stored[node]["known_weight"]
        prev = self.previous_health
        if prev is None:
            return None
        if node == "composite":
            return prev.composite.score, prev.composite.known_weight
        found = next((d for d in prev.composite.dimensions if d.dimension == node), None)
        return (found.score, found.known_weight) if found else None

    def trend(self, node: str, score: float | None, coverage: float | None) -> dict[str, Any] | None:
        """The change of a score against the previous period, or why it is no trend: a previous
        score measured on a share of its weight more than 10 points away is "coverage changed"."""
        prev = self.previous_of(node)
        if score is None or prev is None:
            return None
        prev_score, prev_cov = prev
        if prev_score is None:
            return {
                "previous": None,
                "change": None,
                "comparable": False,
                "known_weight": coverage,
                "previous_known_weight": prev_cov,
                "note": "no score for the previous period",
            }
        comparable = verdict.comparable(coverage, prev_cov)
        note = None
        if not comparable:
            now_pct = "?" if coverage is None else f"{100 * coverage:.0f} %"
            note = f"coverage changed: {100 * prev_cov:.0f} % → {now_pct} measured, not a trend"
        return {
            "previous": prev_score,
            "change": score - prev_score if comparable else None,
            "comparable": comparable,
            "known_weight": coverage,
            "previous_known_weight": prev_cov,
            "note": note,
        }

    def breakdown_evidence(self, node: str) -> dict[str, Any]:
        return {
            "type": "score",
            "computed_at": self.computed_at,
            "model_version": ((self.snapshot or {}).get("health") or {}).get("model_version"),
            "node": node,
            "href": f"/api/scores/breakdown?tenant={quote(self.tenant_id)}&period={self.period}",
        }


# Inputs of the health model that are not KPIs, where their id does not spell them
_INPUT_NAMES = {
    "nrr": "NRR",
    "nps_normalized": "NPS (normalised)",
    "dora_metrics_score": "DORA metrics score",
}


@cache
def _names(with_dimensions: bool) -> tuple[re.Pattern[str], dict[str, str]]:
    d = kpis.load_dictionary()
    names = {
        i.id: _INPUT_NAMES.get(i.id) or i.id.replace("_", " ").capitalize()
        for dim in d.dimensions.values()
        for i in dim.inputs
    }
    names.update({k.id: k.name for k in d.all()})
    if with_dimensions:
        names.update({k: v.name for k, v in d.dimensions.items()})
    ids = sorted(names, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b"), names


def plain(text: str | None, with_dimensions: bool = False) -> str | None:
    """A model's note in words a reader knows: KPI and input ids become their names
    ("missing gross_margin" → "missing Gross Margin"); with `with_dimensions` (the composite's
    notes, which list dimensions) dimension ids too."""
    if not text:
        return text
    pattern, names = _names(with_dimensions)
    return pattern.sub(lambda m: names[m.group(1)], text)


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
    tile["status"] = verdict.parse(entry.get("status"))  # as judged at refresh
    if cur is None:  # a value we do not have is Unknown, whatever the entry says
        tile.update(status=Band.UNKNOWN, display="Unknown", evidence=entry.get("evidence"))
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
        "status": Band.UNKNOWN,
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
    status: Band,
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
        "status": status if known else Band.UNKNOWN,
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
    """A dimension as the refresh judged it: its band after the coverage rule, the share of its
    weight that is measured, the partial note, and its change against the previous period."""
    score = dim.get("score")
    band = verdict.parse(dim.get("status")) if score is not None else Band.UNKNOWN
    coverage = dim.get("known_weight")
    return {
        "id": dim["id"],
        "name": dim.get("name") or dim["id"],
        "weight": dim.get("weight"),
        "value": score,
        "display": f"{score:.0f}" if score is not None else "Unknown",
        "status": band,
        "label": band.label,
        "known_weight": coverage,
        "partial": plain(dim.get("partial")),
        "reason": plain(dim.get("reason")),
        "delta": ctx.trend(dim["id"], score, coverage),
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
    """Key risks: KPIs and dimensions with data that are in Warning or Critical, worst first. All
    of them are served (the summary counts what is listed); the page shows the first
    `RISKS_SHOWN` and the rest behind "show all"."""
    if not ctx.snapshot:
        return not_built(panel, NO_SNAPSHOT)
    entries = list(ctx.snapshot.get("kpis", {}).values())
    known = [e for e in entries if e.get("value") is not None]
    judged = [(verdict.parse(e.get("status")), e) for e in known]
    items = []
    for band, e in sorted(judged, key=lambda be: (be[0].rank, be[1].get("score") or 0)):
        if not band.is_bad:
            continue
        defn = kpis.load_dictionary().get(e["kpi_id"])
        items.append(
            {
                "id": f"kpi:{e['kpi_id']}",
                "title": f"{e['name']} is {band.label}: {e['display']}",
                "detail": f"target {defn.format_value(defn.target)}, "
                f"critical {defn.format_value(defn.critical)}",
                "status": band,
                "value": e["value"],
                "evidence": e.get("evidence"),
                "drill": drill("kpi", e["kpi_id"]),
            }
        )
    for d in (ctx.snapshot.get("health") or {}).get("dimensions") or []:
        item = _dimension_item(ctx, d)
        if item["status"].is_bad:
            items.append(
                {
                    "id": f"dimension:{d['id']}",
                    "title": f"{item['name']} dimension is {item['label']}: {item['display']}/100",
                    "detail": item["partial"] or item["reason"],
                    "status": item["status"],
                    "value": item["value"],
                    "evidence": item["evidence"],
                    "drill": item["drill"],
                }
            )
    n = len(items)
    summary = (
        f"{n} risk{'' if n == 1 else 's'} from the {len(known)} of {len(entries)} KPIs with data"
        " and the health dimensions"
        if items
        else f"None of the {len(known)} of {len(entries)} KPIs with data is in Warning or Critical"
    )
    return {
        "items": items,
        "total": n,
        "shown": min(n, RISKS_SHOWN),
        "summary": summary,
        "evidence": ctx.breakdown_evidence("risks"),  # each risk carries its own run or score node
    }


# ------------------------------------------------------------------------------ signal-based panels


def incident_band(i: dict[str, Any]) -> Band:
    """An incident row's band (model/verdict.incident)."""
    return verdict.incident(i.get("status"), i.get("priority"), i.get("urgency"))


def _open(incs: dict[str, Any] | None, service: str | None = None) -> list[dict[str, Any]]:
    if not incs or not incs.get("available"):
        return []
    return [
        i for i in incs["items"] if i["status"] != "resolved" and (service is None or i["service"] == service)
    ]


def when(iso: str | None) -> str | None:
    """An ISO instant as the page prints it in text ("2 Dec 2026 07:14 UTC")."""
    if not iso:
        return None
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return at.strftime("%-d %b %Y %H:%M UTC")


def incidents(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    data = ctx.rows("incidents")
    if not data or not data.get("available"):
        return not_built(panel, _why(panel, data))
    items = []
    for i in data["items"]:
        status = incident_band(i)
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
    parts = [f"#{i['number']}" if i.get("number") else None]  # its state is shown beside its band
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
    open_ = _open(incs, name)
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
            f"({_PD}, {n} service{'' if n == 1 else 's'} in the catalog)",
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
        return not_built(panel, _why(panel, services))
    incs = ctx.rows("incidents")
    items = [service_status(s, ctx.rows("slo"), incs) for s in services["items"]]
    return {"items": items, "summary": platform_summary(items, incs)}


def service_map(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    services = ctx.rows("services")
    if not services or not services.get("available"):
        return not_built(panel, _why(panel, services))
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


def ops_headline(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    incs = ctx.rows("incidents")
    deps = ctx.rows("deployments")
    items = []
    if incs and incs.get("available"):
        n = incs["open"]
        open_ = _open(incs)
        items.append(
            metric_tile(
                "active_incidents",
                "Active incidents",
                n,
                str(n),
                verdict.worst(incident_band(i) for i in open_) if open_ else Band.HEALTHY,
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
                Band.UNKNOWN,
                f"Not built yet: needs {_PD}",
                None,
            )
        )
    if deps and deps.get("available"):
        t = deps["today"]
        rate = 100.0 * t["failed"] / t["total"] if t["total"] else None
        items.append(
            metric_tile(
                "deploys_today",
                "Deploys today",
                t["total"],
                str(t["total"]),
                verdict.kpi_band("change_failure_rate", rate),  # today's change failure rate
                "no production deploy today"
                if rate is None
                else "All succeeded"
                if t["failed"] == 0
                else f"{t['failed']} failed (change failure {rate:.0f}%)",
                deps["evidence"],
                drill_to=drill("changes"),
            )
        )
    else:
        reason = (deps or {}).get("reason") or NO_SNAPSHOT
        items.append(metric_tile("deploys_today", "Deploys today", None, "", Band.UNKNOWN, reason, None))
    items.append(infra_cost_tile(ctx))
    items.extend(tiles_for(ctx, ("infra_utilization",)))
    return {"items": items}


def infra_cost_tile(ctx: Ctx) -> dict[str, Any]:
    """Infra cost (MTD) from the latest infra_cost_mtd run (views/panels_data._infra_cost_entry)."""
    cost = ctx.rows("infra_cost")
    if not cost or not cost.get("available"):
        reason = (cost or {}).get("reason") or NO_SNAPSHOT
        return metric_tile(
            "infra_cost_mtd", "Infra cost (MTD)", None, "", Band.UNKNOWN, reason, None, unit="usd"
        )
    tile = metric_tile(
        "infra_cost_mtd",
        "Infra cost (MTD)",
        cost["value"],
        cost["display"],
        verdict.parse(cost["status"]),
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


# What an NPS bucket means for the score (NPS = % promoters - % detractors): the page colours a
# bucket by it, red for what lowers the score, green for what raises it.
NPS_TONES = {"detractor": "negative", "passive": "neutral", "promoter": "positive"}


def nps(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    body = stored(panel, ctx)
    if body.get("kind") == "not_built":
        return body
    items = [{**i, "tone": NPS_TONES.get(str(i.get("id")))} for i in body.get("items", [])]
    return {**body, "items": items}


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
    "nps": nps,
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
