"""Incidents → timeline: the incident list, one incident's timeline with the deployments before it
and the change that caused it (the change_failure_rate run's links).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.adapters.repos import SignalStore
from companyos.domain.auth import Principal
from companyos.domain.errors import NotFound
from companyos.runs.rows_postmortems import attach
from companyos.views import panels, panels_data
from companyos.views.drilldown import traffic
from companyos.views.drilldown.base import CORRELATION_WINDOW, authorized, latest_snapshot, unavailable


def incident_row(i: dict[str, Any]) -> dict[str, Any]:
    """A folded incident as the drill-downs serve it: its band beside its state (panels.incident_band,
    the rule the dashboards' incident timeline uses)."""
    return {**{k: v for k, v in i.items() if k != "signal_ids"}, "band": panels.incident_band(i)}


def incident_list(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    now, days = authorized(principal, tenant_id, period)
    rows = panels_data.signals(tenant_id, "incident", days, now)
    if not rows:
        return {
            "tenant_id": tenant_id,
            "period": period,
            **unavailable(f"No data yet: no PagerDuty incident events ingested in the last {days} days"),
        }
    folded = panels_data.fold_incidents(rows)
    attach(folded, panels_data.signals(tenant_id, "postmortem", days, now))  # "Post-mortem links"
    return {
        "tenant_id": tenant_id,
        "period": period,
        "available": True,
        "reason": None,
        "items": [incident_row(i) for i in folded],
    }


def incident(principal: Principal, tenant_id: str, incident_id: str) -> dict[str, Any]:
    now, days = authorized(principal, tenant_id, "365d")
    rows = [
        s
        for s in panels_data.signals(tenant_id, "incident", days, now)
        if str(s.attributes.get("incident_id")) == incident_id
    ]
    if not rows:
        raise NotFound(f"no incident '{incident_id}' in this tenant", code="incident_not_found")
    folded = panels_data.fold_incidents(rows)[0]
    attach([folded], panels_data.signals(tenant_id, "postmortem", days, now))
    timeline = [
        {
            "at": s.occurred_at.isoformat(),
            "transition": s.attributes.get("transition"),
            "status": s.attributes.get("status"),
            "priority": s.attributes.get("priority"),
            "urgency": s.attributes.get("urgency"),
            "agent": s.attributes.get("agent_type"),
            "evidence": {
                "type": "signal",
                "signal_id": s.signal_id,
                "delivery_id": s.delivery_id,
                "source": s.source,
            },
        }
        for s in sorted(rows, key=lambda r: r.occurred_at)
    ]
    return {
        "tenant_id": tenant_id,
        "incident": incident_row(folded),
        "timeline": timeline,
        "changes": _preceding_deploys(tenant_id, folded, now),
        "caused_by": _links_of(
            tenant_id, lambda lk: lk.get("cause") == "incident" and lk.get("by") == incident_id
        ),
        **traffic.incident_links(tenant_id, folded, now),  # "traces" and "logs": deep links
    }


def cfr_links(tenant_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The deploy <-> incident / remediation pairs the latest change_failure_rate run delivered
    over 365 days (its evidence), with that run's evidence."""
    snapshot, _ = latest_snapshot(tenant_id, "365d")
    entry = ((snapshot or {}).get("kpis") or {}).get("change_failure_rate") or {}
    ev = entry.get("evidence") or None
    return list(((ev or {}).get("detail") or {}).get("links") or []), ev


def _links_of(tenant_id: str, keep: Any) -> dict[str, Any]:
    """The change_failure_rate run's links that `keep` selects, with the run as evidence: which
    deployment caused an incident (or which incidents a deployment caused), as the CFR counts it."""
    links, ev = cfr_links(tenant_id)
    if ev is None:
        return unavailable("no change_failure_rate run has delivered deploy <-> incident links yet")
    chosen = [lk for lk in links if keep(lk)]
    return {
        "available": True,
        "reason": None if chosen else "the change_failure_rate run links no deployment to it",
        "items": [{**lk, "drill": panels.drill("deployment", lk["deployment_id"])} for lk in chosen],
        "evidence": {k: ev.get(k) for k in ("run_id", "href", "computed_at", "as_of")},
    }


def _preceding_deploys(tenant_id: str, inc: dict[str, Any], now: datetime) -> dict[str, Any]:
    if not inc.get("service") or not inc.get("triggered_at"):
        return unavailable("the incident's PagerDuty service is not mapped to a catalog service")
    start = datetime.fromisoformat(inc["triggered_at"])
    rows = SignalStore(tenant_id).query("deployment", start - CORRELATION_WINDOW, start)
    deps = [d for d in panels_data.deployment_rows(rows) if d["service"] == inc["service"]]
    return {
        "available": True,
        "reason": None,
        "window_h": CORRELATION_WINDOW.total_seconds() / 3600,
        "items": [{**d, "drill": panels.drill("deployment", d["id"])} for d in deps],
    }
