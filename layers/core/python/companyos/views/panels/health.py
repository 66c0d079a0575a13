"""Health-based panels: the health dimensions as the refresh judged them (band after the coverage
rule, share measured, trend) and the Key risks list (KPIs and dimensions in Warning or Critical).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from companyos.domain import kpis, verdict
from companyos.domain.layouts import Panel
from companyos.domain.verdict import Band
from companyos.views.panels.context import NO_SNAPSHOT, Ctx, drill, not_built, plain

RISKS_SHOWN = 8  # the Key risks list shows this many first; the rest behind "show all"


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
