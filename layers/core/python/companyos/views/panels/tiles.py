"""KPI tiles: a KPI's delivered value as the snapshot judged it (or Unknown with the reason), a tile
folded from signals in the same shape, and a panel's headline from its KPI's run.
"""

from __future__ import annotations

from typing import Any

from companyos.domain import kpis, verdict
from companyos.domain.verdict import Band
from companyos.views.panels.context import NO_SNAPSHOT, Ctx, drill

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
