"""KPI → service → endpoint: a KPI's tile and the per-service counts of the signals it reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from companyos.domain import kpis
from companyos.domain.auth import Principal
from companyos.domain.errors import NotFound
from companyos.runs import contracts
from companyos.views import panels, panels_data, snapshots
from companyos.views.drilldown import traffic
from companyos.views.drilldown.base import authorized, latest_snapshot, unavailable


def _source_kinds(kpi_id: str) -> list[str]:
    try:
        contract = contracts.get(kpi_id)
    except NotFound:
        return []
    return [s.kind for s in contract.sources if s.source_type == "signal"]


def kpi(principal: Principal, tenant_id: str, kpi_id: str, period: str) -> dict[str, Any]:
    now, days = authorized(principal, tenant_id, period)
    if kpi_id not in kpis.load_dictionary().ids():
        raise NotFound(f"no KPI '{kpi_id}' in the KPI dictionary", code="kpi_not_found")
    snapshot, computed_at = latest_snapshot(tenant_id, period)
    entry = (snapshot or {}).get("kpis", {}).get(kpi_id)
    tile = panels.kpi_tile(entry) if entry else panels.unknown_tile(kpi_id)
    kinds = _source_kinds(kpi_id)
    services = _services_level(tenant_id, kpi_id, kinds, days, now, period)
    return {
        "tenant_id": tenant_id,
        "period": period,
        "computed_at": computed_at,
        "kpi": tile,
        "contract": {"signal_kinds": kinds},
        "services": services,
        "endpoints": traffic.endpoints(panels.Ctx(tenant_id, period, snapshot), now, days, kinds=kinds),
    }


def _services_level(
    tenant_id: str, kpi_id: str, kinds: list[str], days: int, now: datetime, period: str
) -> dict[str, Any]:
    if not kinds:
        defn = kpis.load_dictionary().get(kpi_id)
        if kpi_id in contracts.CONTRACTS:  # a lake (CUR) query: no per-service signals to fold
            return unavailable(
                "Not built yet: this KPI is computed by a lake query, not from per-service signals;"
                " its run's evidence carries the breakdown (e.g. cost by service)"
            )
        return unavailable(f"Not built yet: {snapshots.not_measured_reason(defn)}")
    per: dict[str, dict[str, Any]] = {}
    total = 0
    for kind in kinds:
        for s in panels_data.signals(tenant_id, kind, days, now):
            total += 1
            key = s.service or "unmapped"
            row = per.setdefault(
                key,
                {
                    "id": key,
                    "service": s.service,
                    "domain": s.attributes.get("domain"),
                    "signals": 0,
                    "latest_at": None,
                    "drill": panels.drill("service", key) if s.service else None,
                },
            )
            row["signals"] += 1
            row["latest_at"] = max(row["latest_at"] or "", s.occurred_at.isoformat())
    if not total:
        return unavailable(f"no {', '.join(kinds)} signals ingested in the last {days} days")
    deploys = panels_data.signals(tenant_id, "deployment", days, now) if "deployment" in kinds else []
    for d in panels_data.deployment_rows(deploys):
        found = per.get(d["service"] or "unmapped")
        if found is not None and panels_data.is_production(d):
            found["deploys"] = found.get("deploys", 0) + 1
            found["failed"] = found.get("failed", 0) + (0 if d["succeeded"] else 1)
    for row in per.values():
        if row.get("deploys"):
            row["deploys_per_day"] = row["deploys"] / days
            row["change_failure_pct"] = 100.0 * row["failed"] / row["deploys"]
        row["evidence"] = {
            "type": "signals",
            "sources": [{"type": "signal", "object": "/".join(kinds), "count": row["signals"]}],
            "window_days": days,
            "href": f"/api/drill/service/{quote(row['id'])}?tenant={tenant_id}&period={period}",
        }
    return {
        "available": True,
        "reason": None,
        "note": "per-service counts of the signals this KPI reads; its value is computed tenant-wide",
        "items": sorted(per.values(), key=lambda r: -r["signals"]),
    }
