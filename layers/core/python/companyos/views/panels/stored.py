"""Stored panels: rows a refresh step stores ready-made in the panel's kind, optionally headed by
the KPI they break down; the NPS buckets' tones; the links panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from companyos.domain.layouts import Panel
from companyos.views.panels.context import Ctx, drill, not_built, not_built_reason
from companyos.views.panels.tiles import kpi_summary


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
        return not_built(panel, not_built_reason(panel, data))
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


DRILL_LABELS = {
    "score": "Score breakdown",
    "incidents": "Incident history",
    "changes": "Change correlation",
    "services": "Service map",
}


def links(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    return {"items": [{"id": k, "label": DRILL_LABELS[k], "drill": drill(k)} for k in panel.drills]}
