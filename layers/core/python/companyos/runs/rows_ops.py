"""Rows of the incident and deployment KPI runs: incidents with durations (mttr), production
deployments per service (deployment_frequency). See runs/rows.py."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from companyos.domain import verdict
from companyos.runs import rows_postmortems
from companyos.runs.rows import (
    INCIDENT_LOOKBACK_DAYS,
    MAX_ROWS,
    RowsContext,
    Signal,
    Signals,
    register,
    signal_evidence,
    window_start,
)


def fold_incidents(rows: Iterable[Signal]) -> list[dict[str, Any]]:
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
        inc.setdefault("first_event_at", at)
    for inc in by_id.values():
        # the start is known from a triggered event or the incident's created_at; else the first
        # event stands in (to order and show it), but there is no duration: a lone `resolved` is
        # not a 0-minute incident (mttr leaves it out too)
        inc["start_known"] = bool(inc["triggered_at"])
        inc["triggered_at"] = inc["triggered_at"] or inc.pop("first_event_at")
        inc.pop("first_event_at", None)
        inc["duration_s"] = _seconds(inc["triggered_at"], inc["resolved_at"]) if inc["start_known"] else None
        inc["time_to_ack_s"] = (
            _seconds(inc["triggered_at"], inc["acknowledged_at"]) if inc["start_known"] else None
        )
    return sorted(by_id.values(), key=lambda i: str(i["triggered_at"]), reverse=True)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def deployment_rows(rows: Iterable[Signal]) -> list[dict[str, Any]]:
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


def _median_minutes(seconds: Iterable[float | None]) -> float | None:
    """Median of the known durations, in minutes (incidents without a known start or ack left out)."""
    known = [s for s in seconds if s is not None]
    return round(statistics.median(known) / 60.0, 2) if known else None


def _incidents_entry(
    tenant_id: str,
    incident_signals: list[Signal],
    days: int,
    now: datetime,
    postmortem_signals: Sequence[Signal] = (),
) -> dict[str, Any]:
    if not incident_signals:
        return {
            "available": False,
            "reason": "no PagerDuty incident events ingested in the last "
            f"{max(days, INCIDENT_LOOKBACK_DAYS)} days",
        }
    folded = fold_incidents(incident_signals)
    rows_postmortems.attach(folded, postmortem_signals)
    since = window_start(now, days).isoformat()
    postmortems = rows_postmortems.coverage(folded, since, days)
    evidence = signal_evidence(
        "incident",
        incident_signals,
        max(days, INCIDENT_LOOKBACK_DAYS),
        f"/api/drill/incidents?tenant={tenant_id}",
    )
    if postmortem_signals:  # the postmortems read beside the incidents
        evidence["sources"] += signal_evidence(
            "postmortem", postmortem_signals, max(days, INCIDENT_LOOKBACK_DAYS), ""
        )["sources"]
    recent = [i for i in folded if str(i["triggered_at"]) >= since or i["status"] != "resolved"]
    open_ = [i for i in folded if i["status"] != "resolved"]
    p1 = [i for i in folded if i["priority"] == "P1"]
    return {
        "available": True,
        "window_days": days,
        "open": len(open_),
        "open_bands": [verdict.incident(i["status"], i["priority"], i["urgency"]).value for i in open_],
        "in_window": len([i for i in folded if str(i["triggered_at"]) >= since]),
        "mtta_min": _median_minutes(i["time_to_ack_s"] for i in folded if str(i["triggered_at"]) >= since),
        "last_p1_at": p1[0]["triggered_at"] if p1 else None,
        "postmortem_pct": postmortems["pct"],
        "postmortems": postmortems,
        "items": [{k: v for k, v in i.items() if k != "signal_ids"} for i in recent[:MAX_ROWS]],
        "evidence": evidence,
    }


def _deployments_entry(
    tenant_id: str, deploy_signals: list[Signal], days: int, now: datetime, period: str
) -> dict[str, Any]:
    since = window_start(now, days).isoformat()
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


def _incident_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    lookback = ctx.as_of - timedelta(days=max(days, INCIDENT_LOOKBACK_DAYS))
    rows = [s for s in signals.get("incident", ()) if s.occurred_at >= lookback]
    postmortems = [s for s in signals.get("postmortem", ()) if s.occurred_at >= lookback]
    return {"incidents": _incidents_entry(ctx.tenant_id, rows, days, ctx.as_of, postmortems)}


def _deployment_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    rows = list(signals.get("deployment", ()))
    return {"deployments": _deployments_entry(ctx.tenant_id, rows, days, ctx.as_of, f"{days}d")}


register("mttr", _incident_rows)
register("deployment_frequency", _deployment_rows)
