"""Persona routing, pure: notifications → SNS messages, one per (rule, status, persona, channel).

Alerts of one rule that change in the same evaluation are grouped into one message per recipient
and channel. Every message carries the attributes subscription filter policies match on (see
docs/decisions.md "Alerts"): kind, tenant, persona, channel, severity, dimension, rule, status.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from companyos.alerts import channels
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import DASHBOARD_PERSONAS, AlertPack

SUBJECT_MAX = 100  # SNS Subject limit


@dataclass(frozen=True)
class Message:
    subject: str
    body: dict[str, Any]
    attributes: dict[str, str]
    sms: str

    def publish_args(self, topic_arn: str) -> dict[str, Any]:
        """Keyword arguments of sns.publish: JSON for machines, short text for SMS."""
        doc = json.dumps(self.body, sort_keys=True, default=str)
        return {
            "TopicArn": topic_arn,
            "Subject": self.subject[:SUBJECT_MAX],
            "MessageStructure": "json",
            "Message": json.dumps({"default": doc, "sms": self.sms, "email": channels.email_text(self.body)}),
            "MessageAttributes": {
                k: {"DataType": "String", "StringValue": v} for k, v in self.attributes.items() if v
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "body": self.body, "attributes": self.attributes, "sms": self.sms}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(d["subject"], d["body"], d["attributes"], d["sms"])


def sms_text(body: dict[str, Any], max_chars: int = 140) -> str:
    """The SMS of an alert or escalation message (SNS's `sms` part; the notifier's local record)."""
    if body.get("kind") == "escalation":
        return f"[PAGE] {body['tenant']}: {body['summary']}"[:max_chars]
    tag = "RESOLVED" if body.get("status") == "resolved" else str(body["severity"]).upper()
    return f"[{tag}] {body['tenant']}: {body['summary']}"[:max_chars]


def deep_link(cockpit_url: str, tenant_id: str, persona: str, period: str = "7d") -> str:
    """The cockpit drill-down: the web app's hash route `#/{tenant}/{persona}?period=...`."""
    return f"{cockpit_url.rstrip('/')}/#/{tenant_id}/{persona}?period={period}"


def message_id(*parts: object) -> str:
    """A message's identity: the same transition routed again is the same message (a notifier
    receiving it twice delivers it once)."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def _entry(a: Alert) -> dict[str, Any]:
    evidence = a.context.get("evidence")
    return {
        "alert_id": a.alert_id,
        "labels": a.labels,
        "summary": a.summary,
        "value": a.value,
        "op": a.op,
        "threshold": a.threshold,
        "fired_at": a.fired_at,
        "resolved_at": a.resolved_at,
        "evidence": evidence,
    }


def alert_messages(
    pack: AlertPack, tenant_id: str, items: Iterable[tuple[Alert, str]], cockpit_url: str
) -> list[Message]:
    """`items` are (alert, status) pairs; status is "firing" or "resolved"."""
    groups: dict[tuple[str, str], list[Alert]] = {}
    for alert, status in items:
        groups.setdefault((alert.rule_id, status), []).append(alert)
    messages = []
    for (rule_id, status), alerts in sorted(groups.items()):
        rule = pack.rule(rule_id)
        first = alerts[0]
        for persona, channel in pack.routes_of(rule):
            if status == "resolved" and not pack.channels[channel].send_resolved:  # type: ignore[index]
                continue
            view = persona if persona in DASHBOARD_PERSONAS else rule.persona
            link = deep_link(cockpit_url, tenant_id, view, rule.period)
            head = first.summary if len(alerts) == 1 else f"{len(alerts)} alerts: {first.summary}"
            episodes = sorted((a.alert_id, a.episode) for a in alerts)
            body = {
                "kind": "alert",
                "message_id": message_id("alert", tenant_id, rule_id, status, persona, channel, episodes),
                "tenant": tenant_id,
                "rule": rule_id,
                "status": status,
                "severity": first.severity,
                "dimension": first.dimension,
                "persona": persona,
                "channel": channel,
                "summary": head,
                "link": link,
                "alerts": [_entry(a) for a in alerts],
            }
            tag = "RESOLVED" if status == "resolved" else first.severity.upper()
            messages.append(
                Message(
                    subject=f"[{tag}] {rule_id} · {tenant_id}",
                    body=body,
                    attributes={
                        "kind": "alert",
                        "tenant": tenant_id,
                        "persona": persona,
                        "channel": channel,
                        "severity": first.severity,
                        "dimension": first.dimension,
                        "rule": rule_id,
                        "status": status,
                    },
                    sms=sms_text(body, pack.channels["sms"].max_chars or 140),
                )
            )
    return messages


def escalation_message(alert: Alert, target: str, level: int, cockpit_url: str) -> Message:
    link = deep_link(cockpit_url, alert.tenant_id, alert.persona)
    body = {
        "kind": "escalation",
        "message_id": message_id("escalation", alert.tenant_id, alert.alert_id, alert.episode, target, level),
        "tenant": alert.tenant_id,
        "rule": alert.rule_id,
        "status": "firing",
        "severity": alert.severity,
        "dimension": alert.dimension,
        "target": target,
        "level": level,
        "summary": alert.summary,
        "link": link,
        "alerts": [_entry(alert)],
    }
    return Message(
        subject=f"[PAGE L{level}] {alert.rule_id} · {alert.tenant_id}",
        body=body,
        attributes={
            "kind": "escalation",
            "tenant": alert.tenant_id,
            "target": target,
            "level": str(level),
            "severity": alert.severity,
            "dimension": alert.dimension,
            "rule": alert.rule_id,
        },
        sms=sms_text(body),
    )


def subscription_filter(tenant_id: str, persona: str, channel: str) -> dict[str, list[str]]:
    """Filter policy of one tenant's persona x channel subscriber (email, SMS, HTTPS webhook)."""
    return {"kind": ["alert"], "tenant": [tenant_id], "persona": [persona], "channel": [channel]}


def escalation_filter(tenant_id: str, target: str) -> dict[str, list[str]]:
    """Filter policy of one tenant's on-call target (sre_primary, ciso, ...)."""
    return {"kind": ["escalation"], "tenant": [tenant_id], "target": [target]}
