"""KPI → service → endpoint: a KPI's tile and the per-service counts of the signals it reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from companyos.adapters.repos import SignalStore
from companyos.domain import kpis
from companyos.domain.auth import Principal
from companyos.domain.errors import NotFound
from companyos.runs import contracts
from companyos.views import panels, panels_data, snapshots
from companyos.views.drilldown.base import ENDPOINTS_REASON, authorized, latest_snapshot, unavailable


def _source_kinds(kpi_id: str, source_type: str = "signal") -> list[str]:
    try:
        contract = contracts.get(kpi_id)
    except NotFound:
        return []
    return [s.kind for s in contract.sources if s.source_type == source_type]


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
        "breakdown": _breakdown(snapshot, kpi_id),
        "tenant_id": tenant_id,
        "period": period,
        "computed_at": computed_at,
        "kpi": tile,
        "contract": {"signal_kinds": kinds},
        "services": services,
        "endpoints": unavailable(ENDPOINTS_REASON),
    }


def _findings_level(tenant_id: str, kinds: list[str], period: str) -> dict[str, Any]:
    """A KPI over scanner findings (vulnerabilities): per service, the findings' current states the
    KPI's run reads (open / open critical / fixed, the oldest open one's first sighting)."""
    store = SignalStore(tenant_id)
    per: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        for f in store.findings(kind=kind):
            key = f.service or "unmapped"
            row = per.setdefault(
                key,
                {
                    "id": key,
                    "service": f.service,
                    "open": 0,
                    "open_critical": 0,
                    "fixed": 0,
                    "oldest_open": None,
                },
            )
            if f.status == "open":
                row["open"] += 1
                row["open_critical"] += (
                    1 if str(f.attributes.get("severity", "")).lower() == "critical" else 0
                )
                seen = f.first_seen.isoformat()
                row["oldest_open"] = min(row["oldest_open"] or seen, seen)
            else:
                row["fixed"] += 1
    if not per:
        return unavailable(f"no {', '.join(kinds)} findings ingested (Trivy / Snyk report uploads)")
    for row in per.values():
        row["drill"] = panels.drill("service", row["id"]) if row["service"] else None
        row["evidence"] = {
            "type": "findings",
            "sources": [{"type": "finding", "object": "/".join(kinds), "count": row["open"] + row["fixed"]}],
            "href": f"/api/drill/service/{quote(row['id'])}?tenant={tenant_id}&period={period}",
        }
    return {
        "available": True,
        "reason": None,
        "kind": "findings",
        "note": "per-service states of the scanner findings this KPI reads; its value is tenant-wide",
        "items": sorted(per.values(), key=lambda r: (-r["open_critical"], -r["open"])),
    }


def _without_signals(tenant_id: str, kpi_id: str, period: str) -> dict[str, Any]:
    """The per-service level of a KPI that reads no signals: its findings, or its run's breakdown."""
    if finding_kinds := _source_kinds(kpi_id, "finding"):
        return _findings_level(tenant_id, finding_kinds, period)
    defn = kpis.load_dictionary().get(kpi_id)
    if kpi_id in contracts.CONTRACTS:  # a lake (CUR) query: no per-service signals to fold
        return unavailable(
            "Computed tenant-wide by a lake query, not from per-service signals:"
            " its run's evidence lists the query and its sources"
        )
    return unavailable(snapshots.not_measured_reason(defn).capitalize())


# The snapshot panels (views/snapshots.PANEL_RUNS) a KPI's deep dive shows as its breakdown: the rows
# no dashboard panel shows already (a dashboard's incident or SLO rows stay on their panels).
DEEP_DIVE_PANELS: dict[str, tuple[str, ...]] = {"test_coverage": ("coverage",)}


def _breakdown(snapshot: dict[str, Any] | None, kpi_id: str) -> dict[str, Any]:
    """The rows this KPI's delivered run computed (e.g. test coverage per service), as the snapshot
    copied them with the run as evidence: never recomputed here."""
    keys = DEEP_DIVE_PANELS.get(kpi_id, ())
    if not keys:
        return unavailable("this KPI's runs deliver no breakdown rows beyond the signals per service")
    if snapshot is None:
        return unavailable(panels.NO_SNAPSHOT)
    entries = {key: (snapshot.get("panels") or {}).get(key) for key in keys}
    shown = {k: e for k, e in entries.items() if e and e.get("available")}
    if not shown:
        reasons = [str((e or {}).get("reason") or f"no {k} rows in the snapshot") for k, e in entries.items()]
        return unavailable("; ".join(reasons))
    return {"available": True, "reason": None, "panels": shown}


def _services_level(
    tenant_id: str, kpi_id: str, kinds: list[str], days: int, now: datetime, period: str
) -> dict[str, Any]:
    if not kinds:
        return _without_signals(tenant_id, kpi_id, period)
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
