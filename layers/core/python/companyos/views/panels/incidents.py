"""Incidents: an incident row's band (verdict.incident), the open ones, and the incident timeline
panel from the stored incident rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from companyos.domain import verdict
from companyos.domain.layouts import Panel
from companyos.domain.verdict import Band
from companyos.views.panels.context import Ctx, drill, not_built, not_built_reason


def incident_band(i: dict[str, Any]) -> Band:
    """An incident row's band (model/verdict.incident)."""
    return verdict.incident(i.get("status"), i.get("priority"), i.get("urgency"))


def open_incidents(incs: dict[str, Any] | None, service: str | None = None) -> list[dict[str, Any]]:
    if not incs or not incs.get("available"):
        return []
    return [
        i for i in incs["items"] if i["status"] != "resolved" and (service is None or i["service"] == service)
    ]


def when(iso: str | None) -> str | None:
    """An ISO instant as the page prints it in text ("2 Dec 2026 07:14 UTC")."""
    if not iso:
        return None
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return at.strftime("%-d %b %Y %H:%M UTC")


def incidents(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    data = ctx.rows("incidents")
    if not data or not data.get("available"):
        return not_built(panel, not_built_reason(panel, data))
    items = []
    for i in data["items"]:
        status = incident_band(i)
        items.append(
            {
                "id": i["id"],
                "at": i["triggered_at"],
                "title": i["title"] or f"Incident {i['number'] or i['id']}",
                "severity": i["priority"] or (i["urgency"] or "").capitalize() or None,
                "status": status,
                "state": i["status"],
                "service": i["service"] or i["service_name"] or i["service_id"],
                "value": i["duration_s"],
                "display": _duration(i["duration_s"]) if i["duration_s"] is not None else "ongoing",
                "detail": _incident_detail(i),
                "evidence": {
                    **data["evidence"],
                    "href": f"/api/drill/incidents/{quote(i['id'])}?tenant={ctx.tenant_id}",
                },
                "drill": drill("incident", i["id"]),
                "postmortem": _postmortem(i.get("postmortem")),
            }
        )
    return {
        "items": items,
        "summary": f"{data['open']} open · {data['in_window']} in the last {data['window_days']} days",
        "evidence": data["evidence"],
    }


def _postmortem(pm: dict[str, Any] | None) -> dict[str, Any] | None:
    """The wireframe's "→ Post-mortem completed": the issue that reviews the incident."""
    if not pm:
        return None
    label = "Post-mortem completed" if pm.get("completed") else "Post-mortem in progress"
    return {"label": label, "url": pm.get("url"), "completed": bool(pm.get("completed"))}


def _incident_detail(i: dict[str, Any]) -> str:
    parts = [f"#{i['number']}" if i.get("number") else None]  # its state is shown beside its band
    if i.get("time_to_ack_s") is not None:
        parts.append(f"acknowledged after {_duration(i['time_to_ack_s'])}")
    return " · ".join(p for p in parts if p)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "Unknown"
    s = max(0.0, seconds)
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"
