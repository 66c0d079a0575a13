"""The Ops headline: active incidents, deploys today, infra cost (MTD) and utilisation tiles."""

from __future__ import annotations

from typing import Any

from companyos.domain import verdict
from companyos.domain.layouts import Panel
from companyos.domain.verdict import Band
from companyos.views.panels.context import INCIDENT_SOURCE, NO_SNAPSHOT, Ctx, drill
from companyos.views.panels.incidents import incident_band, open_incidents
from companyos.views.panels.tiles import metric_tile, tiles_for


def ops_headline(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    incs = ctx.rows("incidents")
    deps = ctx.rows("deployments")
    items = []
    if incs and incs.get("available"):
        n = incs["open"]
        open_ = open_incidents(incs)
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
                f"No data yet: nothing has arrived from {INCIDENT_SOURCE}",
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
