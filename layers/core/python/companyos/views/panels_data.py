"""Row data of the cockpit's non-KPI panels, computed at score refresh and stored in the snapshot.

Dashboards must read one precomputed item, so the rows behind incident lists, platform status,
deployments per service and the service map are folded from the stored signals here, when the
score refresh runs (`build(tenant_id, now)` → one dict per period, stored as `snapshot["panels"]`).

Each entry is either `{"available": True, ...rows..., "evidence": {...}}` or
`{"available": False, "reason": "..."}` — never invented numbers. The same folding functions serve
the drill-down endpoints (views/drilldown.py), which read the signals live.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from companyos.runs.contracts import PERIODS
from companyos.store.repos import SignalStore, StoredSignal, TenantCatalog

MAX_ROWS = 25  # rows kept per list in a snapshot item (DynamoDB items stay far below 400 KB)
INCIDENT_LOOKBACK_DAYS = 90  # open incidents older than the period still show as open
PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 5}


# ------------------------------------------------------------------------------ signal folding


def signals(tenant_id: str, kind: str, days: int, now: datetime) -> list[StoredSignal]:
    return list(SignalStore(tenant_id).query(kind, now - timedelta(days=days), now))


def signal_evidence(kind: str, rows: Iterable[StoredSignal], days: int, href: str) -> dict[str, Any]:
    """Evidence of a number folded from signals: which kind, how many, the newest, where to see them."""
    items = list(rows)
    latest = max((s.occurred_at for s in items), default=None)
    return {
        "type": "signals",
        "sources": [
            {
                "type": "signal",
                "object": f"{items[0].source if items else '?'}.{kind}",
                "count": len(items),
                "latest_at": latest.isoformat() if latest else None,
            }
        ],
        "window_days": days,
        "href": href,
    }


def fold_incidents(rows: Iterable[StoredSignal]) -> list[dict[str, Any]]:
    """PagerDuty incident events → one record per incident (newest first)."""
    by_id: dict[str, dict[str, Any]] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        a = s.attributes
        iid = str(a.get("incident_id") or s.entity or s.signal_id)
        inc = by_id.setdefault(
            iid,
            {
                "id": iid,
                "number": a.get("incident_number"),
                "title": a.get("title"),
                "service": s.service,
                "service_id": a.get("service_id") or s.entity,
                "service_name": a.get("service_summary"),
                "domain": a.get("domain"),
                "priority": None,
                "urgency": None,
                "triggered_at": a.get("incident_created_at"),
                "acknowledged_at": None,
                "resolved_at": None,
                "status": "triggered",
                "events": 0,
                "signal_ids": [],
            },
        )
        inc["events"] += 1
        inc["signal_ids"].append(s.signal_id)
        inc["title"] = a.get("title") or inc["title"]
        inc["priority"] = a.get("priority") or inc["priority"]
        inc["urgency"] = a.get("urgency") or inc["urgency"]
        transition = a.get("transition") or str(a.get("event_type", "")).removeprefix("incident.")
        at = s.occurred_at.isoformat()
        if transition == "triggered":
            inc["triggered_at"] = inc["triggered_at"] or at
        elif transition == "acknowledged":
            inc["acknowledged_at"] = inc["acknowledged_at"] or at
            inc["status"] = "acknowledged" if inc["status"] != "resolved" else "resolved"
        elif transition == "resolved":
            inc["resolved_at"] = at
            inc["status"] = "resolved"
        inc["triggered_at"] = inc["triggered_at"] or at
    for inc in by_id.values():
        inc["duration_s"] = _seconds(inc["triggered_at"], inc["resolved_at"])
        inc["time_to_ack_s"] = _seconds(inc["triggered_at"], inc["acknowledged_at"])
    return sorted(by_id.values(), key=lambda i: str(i["triggered_at"]), reverse=True)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def deployment_rows(rows: Iterable[StoredSignal]) -> list[dict[str, Any]]:
    """GitHub deployment_status signals → deployments (newest first)."""
    out = []
    for s in rows:
        a = s.attributes
        out.append(
            {
                "id": str(a.get("deployment_id") or s.signal_id),
                "at": s.occurred_at.isoformat(),
                "repository": a.get("repository") or s.entity,
                "service": s.service,
                "domain": a.get("domain"),
                "environment": a.get("environment"),
                "state": a.get("state"),
                "succeeded": a.get("succeeded"),
                "sha": a.get("sha"),
                "ref": a.get("ref"),
                "signal_id": s.signal_id,
                "delivery_id": s.delivery_id,
            }
        )
    return sorted(out, key=lambda d: d["at"], reverse=True)


def is_production(dep: dict[str, Any]) -> bool:
    return str(dep.get("environment") or "").lower() in ("production", "prod")


def catalog_services(tenant_id: str) -> dict[str, dict[str, Any]]:
    """Services known to the catalog (via source mappings), with their domain and mapped entities."""
    cat = TenantCatalog(tenant_id)
    services: dict[str, dict[str, Any]] = {}
    for source in ("github", "pagerduty"):
        for entity, m in sorted(cat.source_map(source).items()):
            svc = services.setdefault(
                m["service"], {"service": m["service"], "domain": m.get("domain"), "entities": []}
            )
            svc["entities"].append({"source": source, "entity": entity})
    return services


# ------------------------------------------------------------------------------ per-period panel rows


def _incidents_entry(
    tenant_id: str, incident_signals: list[StoredSignal], days: int, now: datetime
) -> dict[str, Any]:
    if not incident_signals:
        return {
            "available": False,
            "reason": "no PagerDuty incident events ingested in the last "
            f"{max(days, INCIDENT_LOOKBACK_DAYS)} days",
        }
    folded = fold_incidents(incident_signals)
    since = (now - timedelta(days=days)).isoformat()
    recent = [i for i in folded if str(i["triggered_at"]) >= since or i["status"] != "resolved"]
    open_ = [i for i in folded if i["status"] != "resolved"]
    p1 = [i for i in folded if i["priority"] == "P1"]
    return {
        "available": True,
        "window_days": days,
        "open": len(open_),
        "in_window": len([i for i in folded if str(i["triggered_at"]) >= since]),
        "last_p1_at": p1[0]["triggered_at"] if p1 else None,
        "items": [{k: v for k, v in i.items() if k != "signal_ids"} for i in recent[:MAX_ROWS]],
        "evidence": signal_evidence(
            "incident",
            incident_signals,
            max(days, INCIDENT_LOOKBACK_DAYS),
            f"/api/drill/incidents?tenant={tenant_id}",
        ),
    }


def _deployments_entry(
    tenant_id: str, deploy_signals: list[StoredSignal], days: int, now: datetime, period: str
) -> dict[str, Any]:
    since = (now - timedelta(days=days)).isoformat()
    deps = [d for d in deployment_rows(deploy_signals) if d["at"] >= since and is_production(d)]
    if not deps:
        return {"available": False, "reason": f"no production deployments ingested in the last {days} days"}
    today = now.date().isoformat()
    per_service: dict[str, dict[str, Any]] = {}
    for d in deps:
        key = d["service"] or d["repository"] or "unmapped"
        svc = per_service.setdefault(
            key,
            {"service": key, "mapped": d["service"] is not None, "total": 0, "failed": 0, "last_at": None},
        )
        svc["total"] += 1
        svc["failed"] += 0 if d["succeeded"] else 1
        svc["last_at"] = max(svc["last_at"] or "", d["at"])
    todays = [d for d in deps if d["at"].startswith(today)]
    return {
        "available": True,
        "window_days": days,
        "total": len(deps),
        "failed": sum(1 for d in deps if not d["succeeded"]),
        "today": {
            "date": today,
            "total": len(todays),
            "failed": sum(1 for d in todays if not d["succeeded"]),
        },
        "per_service": sorted(per_service.values(), key=lambda s: s["service"]),
        "recent": deps[:MAX_ROWS],
        "evidence": signal_evidence(
            "deployment_status",
            [s for s in deploy_signals if s.occurred_at.isoformat() >= since],
            days,
            f"/api/drill/changes?tenant={tenant_id}&period={period}",
        ),
    }


def _rows(
    tenant_id: str,
    period: str,
    now: datetime,
    services: dict[str, dict[str, Any]],
    deploy_signals: list[StoredSignal],
    incident_signals: list[StoredSignal],
) -> dict[str, Any]:
    days = PERIODS[period]
    lookback = now - timedelta(days=max(days, INCIDENT_LOOKBACK_DAYS))
    return {
        "services": {
            "available": bool(services),
            "reason": None if services else "no services are mapped in the catalog yet",
            "items": list(services.values())[:50],
        },
        "incidents": _incidents_entry(
            tenant_id, [s for s in incident_signals if s.occurred_at >= lookback], days, now
        ),
        "deployments": _deployments_entry(tenant_id, deploy_signals, days, now, period),
    }


def build_one(tenant_id: str, period: str, now: datetime) -> dict[str, Any]:
    """The rows of one period, read live (the service map drill-down)."""
    days = max(PERIODS[period], INCIDENT_LOOKBACK_DAYS)
    return _rows(
        tenant_id,
        period,
        now,
        catalog_services(tenant_id),
        signals(tenant_id, "deployment", PERIODS[period], now),
        signals(tenant_id, "incident", days, now),
    )


def build(tenant_id: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per period: the panel rows the dashboards read from the snapshot (`snapshot["panels"]`)."""
    now = now or datetime.now(UTC)
    longest = max(PERIODS.values())
    deploy_signals = signals(tenant_id, "deployment", longest, now)
    incident_signals = signals(tenant_id, "incident", max(longest, INCIDENT_LOOKBACK_DAYS), now)
    services = catalog_services(tenant_id)
    return {p: _rows(tenant_id, p, now, services, deploy_signals, incident_signals) for p in PERIODS}
