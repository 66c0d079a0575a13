"""Assemble a persona dashboard from one precomputed snapshot (at most 2 DynamoDB reads, no Scan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from companyos.auth import Principal, authorize
from companyos.errors import InvalidPayload
from companyos.model import kpis, scoring
from companyos.runs.contracts import PERIODS
from companyos.store.repos import Catalog, ScoreStore
from companyos.views.layouts import LAYOUTS, Panel

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
    "dimension",
)


def _tile(entry: dict[str, Any]) -> dict[str, Any]:
    tile = {k: entry.get(k) for k in _TILE_FIELDS}
    defn = kpis.load_dictionary().get(entry["kpi_id"])
    tile["target"] = defn.format_value(defn.target)
    tile["critical"] = defn.format_value(defn.critical)
    prev, cur = entry.get("previous"), entry.get("value")
    tile["delta"] = {"previous": prev, "change": cur - prev} if cur is not None and prev is not None else None
    return tile


def _unknown_tile(kpi_id: str) -> dict[str, Any]:
    defn = kpis.load_dictionary().get(kpi_id)
    return {
        "kpi_id": kpi_id,
        "name": defn.name,
        "unit": defn.unit,
        "value": None,
        "display": "Unknown",
        "status": "unknown",
        "reason": "no score snapshot has been computed for this tenant yet",
        "level": None,
        "series": [],
        "evidence": None,
        "dimension": defn.dimension,
        "target": defn.format_value(defn.target),
        "critical": defn.format_value(defn.critical),
        "delta": None,
    }


def _panel(panel: Panel, snapshot: dict[str, Any] | None) -> dict[str, Any]:
    if panel.kind == "not_built":
        return {"id": panel.id, "title": panel.title, "kind": panel.kind, "reason": panel.reason, "items": []}
    entries = (snapshot or {}).get("kpis", {})
    items = [_tile(entries[k]) if k in entries else _unknown_tile(k) for k in panel.kpis]
    return {"id": panel.id, "title": panel.title, "kind": panel.kind, "items": items}


def _health(snapshot: dict[str, Any] | None) -> dict[str, Any]:
    if not snapshot:
        return {
            "score": None,
            "status": "unknown",
            "label": "Unknown",
            "reason": "no score snapshot has been computed for this tenant yet",
            "dimensions": {},
        }
    health = snapshot["health"]
    band = scoring.band(health.get("score"))
    return {**health, "status": band.value, "label": band.label}


def dashboard(
    principal: Principal, tenant_id: str, persona: str, period: str, now: datetime | None = None
) -> dict[str, Any]:
    authorize(principal, "dashboard:view", tenant_id, persona)
    if period not in PERIODS:
        raise InvalidPayload(
            f"period must be one of {', '.join(PERIODS)}", code="invalid_period", details={"path": "period"}
        )
    layout = LAYOUTS[persona]
    now = now or datetime.now(UTC)
    found = ScoreStore(tenant_id).latest(period)  # DynamoDB request 1
    snapshot, computed_at = found if found else (None, None)
    tenant = snapshot["tenant"] if snapshot else _tenant_meta(tenant_id)  # request 2 only without snapshot
    age = (now - computed_at).total_seconds() if computed_at else None
    return {
        "tenant": tenant,
        "persona": persona,
        "title": layout.title,
        "period": {
            "key": period,
            "days": PERIODS[period],
            "start": (now - timedelta(days=PERIODS[period])).isoformat(),
            "end": now.isoformat(),
        },
        "snapshot": {
            "computed_at": computed_at.isoformat() if computed_at else None,
            "age_s": round(age) if age is not None else None,
            "max_staleness_s": layout.max_staleness_s,
            "stale": age is None or age > layout.max_staleness_s,
        },
        "health": _health(snapshot),
        "panels": [_panel(p, snapshot) for p in layout.panels],
    }


def _tenant_meta(tenant_id: str) -> dict[str, Any]:
    t = Catalog().get_tenant(tenant_id)
    return {"id": t.id, "name": t.name, "environment": t.environment}
