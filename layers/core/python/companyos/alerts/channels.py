"""One alert message as each kind of endpoint takes it — pure (no I/O).

- e-mail and SMS: the texts SNS sends (the message's `email` and `sms` parts);
- Slack: an incoming-webhook body (`text` fallback + Block Kit blocks);
- Microsoft Teams: an incoming-webhook / workflow body (a message with one Adaptive Card);
- PagerDuty: an Events API v2 `enqueue` event (trigger or resolve, deduplicated per alert episode);
- generic webhook: the message's JSON, signed like Stripe signs its webhooks: header
  `X-CompanyOS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from companyos.domain.alert_subscribers import SubscriberChannel

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
SIGNATURE_HEADER = "X-CompanyOS-Signature"
# PagerDuty's four severities (Events v2 `payload.severity`) for the pack's five
PD_SEVERITY = {
    "critical": "critical",
    "high": "error",
    "warning": "warning",
    "medium": "warning",
    "info": "info",
}
PD_SUMMARY_MAX = 1024
PD_DEDUP_MAX = 255
SLACK_TEXT_MAX = 3000  # a section block's text limit


@dataclass(frozen=True)
class Rendered:
    """What goes to one endpoint: where (url, None for SNS-delivered e-mail/SMS), body and headers."""

    url: str | None
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "subject": self.subject, "headers": self.headers, "body": self.body}


def email_text(body: dict[str, Any]) -> str:
    """The plain-text e-mail of an alert or escalation message."""
    head = f"[{str(body['status']).upper()}] {body['rule']} ({body['severity']}) — tenant {body['tenant']}"
    if body.get("kind") == "escalation":
        head = f"[PAGE L{body.get('level')}] {body['rule']} ({body['severity']}) — tenant {body['tenant']}"
    lines = [head, ""]
    for a in body["alerts"]:
        lines.append(f"- {a['summary']} (value {a['value']} {a['op']} threshold {a['threshold']})")
    lines += ["", f"Open the cockpit: {body['link']}"]
    return "\n".join(lines)


def _dedup_key(body: dict[str, Any]) -> str:
    first = body["alerts"][0] if body["alerts"] else {}
    key = f"companyos:{body['tenant']}:{body['rule']}:{first.get('alert_id', '')}"
    return key[:PD_DEDUP_MAX]


def pagerduty_event(routing_key: str, body: dict[str, Any]) -> dict[str, Any]:
    """An Events API v2 event: trigger while firing (and for an escalation page), resolve after."""
    action = "resolve" if body.get("status") == "resolved" else "trigger"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": _dedup_key(body),
    }
    if action == "resolve":
        return event
    first = body["alerts"][0] if body["alerts"] else {}
    event["payload"] = {
        "summary": str(body["summary"])[:PD_SUMMARY_MAX],
        "source": f"companyos/{body['tenant']}",
        "severity": PD_SEVERITY.get(str(body["severity"]), "error"),
        "component": str(body.get("dimension") or ""),
        "group": str(body["tenant"]),
        "class": str(body["rule"]),
        "custom_details": {
            "alerts": [
                {
                    k: a.get(k)
                    for k in ("alert_id", "summary", "value", "op", "threshold", "labels", "fired_at")
                }
                for a in body["alerts"]
            ],
            "evidence": first.get("evidence"),
        },
    }
    if first.get("fired_at"):
        event["payload"]["timestamp"] = first["fired_at"]
    event["links"] = [{"href": body["link"], "text": "Open in CompanyOS"}]
    event["client"], event["client_url"] = "CompanyOS Exec Cockpit", body["link"]
    return event


def slack_message(body: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook body: the fallback `text` and Block Kit blocks."""
    status = "Resolved" if body.get("status") == "resolved" else str(body["severity"]).capitalize()
    title = f"{status}: {body['summary']}"
    lines = [f"• {a['summary']} (value {a['value']} {a['op']} {a['threshold']})" for a in body["alerts"]]
    text = "\n".join(lines)[:SLACK_TEXT_MAX] or body["summary"]
    return {
        "text": title,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"[:SLACK_TEXT_MAX]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"{body['rule']} · {body['tenant']} · {body.get('dimension', '')}",
                    }
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the cockpit"},
                        "url": body["link"],
                    }
                ],
            },
        ],
    }


def teams_message(body: dict[str, Any]) -> dict[str, Any]:
    """A Teams incoming-webhook / workflow body: one Adaptive Card attachment."""
    status = "Resolved" if body.get("status") == "resolved" else str(body["severity"]).capitalize()
    facts = [{"title": "Rule", "value": body["rule"]}, {"title": "Tenant", "value": body["tenant"]}]
    items: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "size": "Medium",
            "weight": "Bolder",
            "wrap": True,
            "text": f"{status}: {body['summary']}",
        },
        {"type": "FactSet", "facts": facts},
    ]
    items += [
        {
            "type": "TextBlock",
            "wrap": True,
            "text": f"{a['summary']} (value {a['value']} {a['op']} {a['threshold']})",
        }
        for a in body["alerts"]
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": items,
        "actions": [{"type": "Action.OpenUrl", "title": "Open the cockpit", "url": body["link"]}],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


def sign(secret: str, timestamp: int, payload: str) -> str:
    """The signature header's value for `payload` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def render(channel: SubscriberChannel, message: dict[str, Any], timestamp: int) -> Rendered:
    """`message` is a routed message (`routing.Message.to_dict()`): subject, body, attributes, sms."""
    body = message["body"]
    kind = channel.type
    if kind == "email":
        return Rendered(None, email_text(body), subject=message["subject"])
    if kind == "sms":
        return Rendered(None, message["sms"])
    json_headers = {"Content-Type": "application/json"}
    if kind == "slack":
        return Rendered(channel.address, json.dumps(slack_message(body)), json_headers)
    if kind == "teams":
        return Rendered(channel.address, json.dumps(teams_message(body)), json_headers)
    if kind == "pagerduty":
        return Rendered(PAGERDUTY_URL, json.dumps(pagerduty_event(channel.address, body)), json_headers)
    payload = json.dumps(body, sort_keys=True, default=str)
    headers = {**json_headers, "X-CompanyOS-Message-Id": str(body.get("message_id", ""))}
    if channel.secret:
        headers[SIGNATURE_HEADER] = sign(channel.secret, timestamp, payload)
    return Rendered(channel.address, payload, headers)
