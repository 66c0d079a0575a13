"""The CISO's "Threat detection (24h)" tiles, as the failed_auth_attempts run delivered them
(runs/rows_threats.py): failed sign-ins, blocked requests, active threat findings by severity. Each
tile's status is the one the run's rows were judged with (domain/verdict.py); its evidence is the
run and the signals behind the number."""

from __future__ import annotations

from typing import Any

from companyos.domain import verdict
from companyos.domain.layouts import Panel
from companyos.views.panels.context import NO_SNAPSHOT, Ctx, drill
from companyos.views.panels.tiles import metric_tile

KPI = "failed_auth_attempts"
TILES = (
    ("failed_sign_ins", "Failed sign-ins (24h)"),
    ("blocked_requests", "Blocked requests (24h)"),
    ("findings_critical_high", "High/critical findings (24h)"),
    ("findings_medium", "Medium findings (24h)"),
    ("findings_low", "Low findings (24h)"),
)


def threats(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    data = ctx.rows("threats")
    if not data or not data.get("available"):
        reason = (data or {}).get("reason") or (NO_SNAPSHOT if ctx.snapshot is None else panel.needs)
        return {
            "items": [metric_tile(i, name, None, "", verdict.Band.UNKNOWN, reason, None) for i, name in TILES]
        }  # each Unknown tile says why (no summary: a panel's sentence without a run is no truth)
    items = []
    for row in data["items"]:
        tile = metric_tile(
            row["id"],
            row["name"],
            row["value"],
            row["display"],
            verdict.parse(row["status"]),
            row.get("reason"),
            row.get("evidence"),
            unit=row.get("unit") or "count",
            drill_to=drill("kpi", KPI) if row["id"] == "failed_sign_ins" else None,
        )
        items.append(tile)
    return {"items": items, "summary": data.get("summary"), "evidence": data.get("evidence")}
