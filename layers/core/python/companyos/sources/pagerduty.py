"""PagerDuty v3 webhooks (`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`, body `{"event": {...}}`).

Each incident event becomes one `incident` signal keyed by the event id (also the delivery id, so a
redelivery is a no-op). MTTA/MTTR/P1 counts are computed by the KPI runs from the sequence of events
of an incident (triggered → acknowledged → resolved), never from a single event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    any_signature_matches,
    iso,
    load_json,
    optional_time,
    parse_time,
    require,
)

INCIDENT_EVENTS = {
    "incident.triggered",
    "incident.acknowledged",
    "incident.resolved",
    "incident.priority_updated",
}


class PagerDutySource:
    name = "pagerduty"
    retention_days = 400

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header("X-PagerDuty-Signature") or ""
        offered = [
            part.strip().removeprefix("v1=") for part in header.split(",") if part.strip().startswith("v1=")
        ]
        if not offered:
            raise SignatureInvalid(
                "missing or malformed X-PagerDuty-Signature header (no v1= signature)",
                code="signature_missing",
            )
        any_signature_matches(offered, secrets, request.body)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = load_json(request.body)
        if not isinstance(doc, dict):
            raise InvalidPayload("a PagerDuty v3 webhook body must be a JSON object", details={"path": ""})
        event = require(doc, "event")
        event_id = str(require(doc, "event.id"))
        event_type = str(require(doc, "event.event_type"))
        if event_type == "pagey.ping":
            return ParsedDelivery(event_type, event_id, ignored_reason="ping acknowledged")
        if event_type not in INCIDENT_EVENTS:
            return ParsedDelivery(
                event_type, event_id, ignored_reason=f"PagerDuty event '{event_type}' is not used"
            )
        data = require(doc, "event.data")
        occurred = parse_time(event.get("occurred_at"), "event.occurred_at")
        service_id = str(require(doc, "event.data.service.id"))
        priority = data.get("priority") or {}
        attrs: dict[str, Any] = {
            "event_id": event_id,
            "event_type": event_type,
            "transition": event_type.removeprefix("incident."),
            "incident_id": require(doc, "event.data.id"),
            "incident_number": data.get("number"),
            "incident_key": data.get("incident_key"),
            "incident_created_at": iso(optional_time(data.get("created_at"))),
            "title": data.get("title"),
            "status": data.get("status"),
            "urgency": data.get("urgency"),
            "priority": priority.get("summary") if isinstance(priority, dict) else None,
            "priority_id": priority.get("id") if isinstance(priority, dict) else None,
            "service_id": service_id,
            "service_summary": (data.get("service") or {}).get("summary"),
            "escalation_policy_id": (data.get("escalation_policy") or {}).get("id"),
            "teams": [t.get("summary") for t in data.get("teams") or [] if isinstance(t, dict)],
            "agent_type": (event.get("agent") or {}).get("type"),
            "occurred_at": occurred.isoformat(),
        }
        return ParsedDelivery(
            event_type, event_id, [Signal("incident", occurred, service_id, attrs, key=event_id, fact=True)]
        )
