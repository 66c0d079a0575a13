"""Panel builders: one persona panel from the one precomputed snapshot (no further reads).

A builder turns the snapshot's KPI entries, health summary or stored panel rows
(views/panels_data.py) into the panel `kind` the web app renders (docs/cockpit-api.md). Every
item that carries a number carries its evidence (a KPI run, the score breakdown, or the signals it
was folded from). What the snapshot does not have is Unknown or `not_built`, with the reason.

`BUILDERS` maps a layout panel's `source` to its builder, by what it reads: panels/health.py (the
health dimensions, Key risks), incidents.py, services.py (platform, service map), ops.py (the Ops
headline), stored.py (rows stored ready-made, NPS, links); tiles.py makes KPI tiles and context.py
holds what they share (`Ctx`, model notes in plain words, drill-downs, `not_built`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from companyos.domain.layouts import Panel
from companyos.views.panels.compliance import compliance
from companyos.views.panels.context import NO_SNAPSHOT, Ctx, drill, plain
from companyos.views.panels.health import dimension_score, dimensions, risks
from companyos.views.panels.incidents import incident_band, incidents
from companyos.views.panels.ops import ops_headline
from companyos.views.panels.services import platform, platform_summary, service_map, service_status
from companyos.views.panels.stored import links, nps, stored, with_kpi
from companyos.views.panels.threats import threats
from companyos.views.panels.tiles import kpi_tile, tiles_for, unknown_tile

__all__ = [
    "BUILDERS",
    "NO_SNAPSHOT",
    "Ctx",
    "build",
    "drill",
    "incident_band",
    "kpi_tile",
    "plain",
    "platform_summary",
    "service_status",
    "unknown_tile",
]


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
    "compliance": compliance,
    "links": links,
    "threats": threats,
}


def build(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    head = {"id": panel.id, "title": panel.title, "kind": panel.kind, "width": panel.width}
    if panel.kpis:
        return {**head, "items": tiles_for(ctx, panel.kpis)}
    body = BUILDERS.get(panel.source, stored)(panel, ctx)
    for item in body.get("items", []):
        item.setdefault("kpi_id", None)  # every item says whether it is a KPI (null: it is not)
    return {**head, "items": [], **body}
