"""Demo PagerDuty incidents: v3 webhook events (triggered, acknowledged, sometimes escalated,
resolved) on the tenant's PagerDuty services, a Poisson number per day, P1/P2/P3 by the tenant's share."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from companyos.sources.base import hmac_sha256_hex

from infra.local.demo_billing import poisson as _poisson
from infra.local.demo_deliver import Deliverer, ts

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

PRIORITIES = {"P1": "PRIO0P1", "P2": "PRIO0P2", "P3": "PRIO0P3"}
TITLES = ("High error rate", "Latency above SLO", "Queue backlog growing", "Pod crash loop", "5xx spike")


def pagerduty(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Sends the events; returns the incidents resolved by `now` (for their postmortems)."""
    sub = demo.tenant.id
    number = 0
    resolved_incidents: list[dict[str, Any]] = []
    for day in range(demo.days, -1, -1):
        for _ in range(_poisson(rng, demo.incidents_per_day)):
            number += 1
            pd_id, service = rng.choice(demo.pd_services)
            r = rng.random()
            priority = "P1" if r < demo.p1_share else "P2" if r < demo.p1_share + 0.35 else "P3"
            triggered = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            fast = {"P1": 1, "P2": 2, "P3": 4}[priority]
            acked = triggered + timedelta(minutes=rng.uniform(0.5, 12) * fast)
            resolved = acked + timedelta(minutes=rng.uniform(10, 80) * fast)
            incident = f"Q{sub[:3].upper()}{number:05d}"
            title = f"[{service}] {rng.choice(TITLES)}"
            steps = [
                ("incident.triggered", "triggered", triggered),
                ("incident.acknowledged", "acknowledged", acked),
            ]
            if priority == "P2" and rng.random() < 0.25:  # escalated after the acknowledgement
                steps.append(("incident.priority_updated", "acknowledged", acked + timedelta(minutes=3)))
                priority_after = "P1"
            else:
                priority_after = priority
            steps.append(("incident.resolved", "resolved", resolved))
            if resolved <= now:
                resolved_incidents.append(
                    {"id": incident, "number": number, "url": f"https://{sub}.pagerduty.com/incidents/{incident}",
                     "title": title, "service": service, "priority": priority_after, "resolved": resolved}
                )  # fmt: skip
            for k, (event_type, status, at) in enumerate(steps):
                if at > now:
                    break
                prio = (
                    priority_after
                    if event_type in ("incident.priority_updated", "incident.resolved")
                    else priority
                )
                out.send("pagerduty", _pd_event(sub, incident, number, event_type, status, at, triggered,
                                                pd_id, service, prio, title, f"{incident}-{k}"))  # fmt: skip
    return resolved_incidents


def _pd_event(
    sub: str,
    incident: str,
    number: int,
    event_type: str,
    status: str,
    at: datetime,
    created: datetime,
    pd_id: str,
    service: str,
    priority: str,
    title: str,
    event_key: str,
) -> dict[str, Any]:
    base = f"https://{sub}.pagerduty.com"
    return {
        "event": {
            "id": "01" + hmac_sha256_hex("pd", event_key.encode())[:24].upper(),
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "agent": {
                "html_url": f"{base}/users/PUSR01",
                "id": "PUSR01",
                "self": "https://api.pagerduty.com/users/PUSR01",
                "summary": "On-call engineer" if status != "triggered" else "Alertmanager",
                "type": "user_reference" if status != "triggered" else "service_reference",
            },
            "client": None,
            "data": {
                "id": incident,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident}",
                "html_url": f"{base}/incidents/{incident}",
                "number": number,
                "status": status,
                "incident_key": hmac_sha256_hex("key", incident.encode())[:32],
                "created_at": ts(created),
                "title": title,
                "service": {
                    "html_url": f"{base}/services/{pd_id}",
                    "id": pd_id,
                    "self": f"https://api.pagerduty.com/services/{pd_id}",
                    "summary": service,
                    "type": "service_reference",
                },
                "assignees": [],
                "escalation_policy": {
                    "id": "PESC01",
                    "summary": f"{service} on-call",
                    "type": "escalation_policy_reference",
                },
                "teams": [{"id": "PTEAM1", "summary": "Platform", "type": "team_reference"}],
                "priority": {
                    "html_url": f"{base}/account/incident_priorities",
                    "id": PRIORITIES[priority],
                    "self": f"https://api.pagerduty.com/priorities/{PRIORITIES[priority]}",
                    "summary": priority,
                    "type": "priority_reference",
                },
                "urgency": "high" if priority != "P3" else "low",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }
