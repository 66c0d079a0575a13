"""The alert inbox API's answers: the schema of each 200 in docs/openapi-alerts.json, built on the
domain's own models (an alert, a rule, the escalation routes) plus the fields the views add."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import Channel, EscalationRoutes, Rule
from companyos.domain.alert_silences import Silence
from companyos.domain.alert_subscribers import ChannelType


def _without(*names: str) -> Callable[[dict[str, Any]], None]:
    """A schema without fields the views leave out of the answer (stored state, provenance)."""

    def drop(schema: dict[str, Any]) -> None:
        for name in names:
            schema.get("properties", {}).pop(name, None)
        if "required" in schema:
            schema["required"] = [r for r in schema["required"] if r not in names]

    return drop


class AlertView(Alert):
    """One alert as the inbox shows it (without its notification outbox)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without("outbox", "sending"))
    acknowledged: bool


class AlertList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    persona: str
    view: str
    alerts: list[AlertView]


class RuleView(Rule):
    """A rule as the tenant runs it: the pack's rule with the tenant's tuning applied."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_without("seed"))
    enabled: bool
    tuned: dict[str, Any]
    deliver_to: list[dict[str, str]]


class RulesView(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    pack_version: str
    rules: list[RuleView]


class RoutesView(EscalationRoutes):
    model_config = ConfigDict(frozen=True, extra="forbid")
    tenant: str
    custom: bool


class SilenceView(Silence):
    """A silence with its state now: active, pending (starts later) or expired."""

    model_config = ConfigDict(extra="forbid")
    state: Literal["active", "pending", "expired"]


class SilenceList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    silences: list[SilenceView]


class SubscriberChannelView(BaseModel):
    """One endpoint of a subscriber; a webhook's signing secret only in the answer that made it."""

    model_config = ConfigDict(extra="forbid")
    channel_id: str
    type: ChannelType
    address: str
    carries: list[Channel]
    delivered_by: Literal["sns", "notifier"]
    subscriptions: int
    secret_set: bool | None = None
    secret: str | None = None


class SubscriberView(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscriber_id: str
    name: str
    email: str
    personas: list[str]
    oncall: list[str]
    channels: list[SubscriberChannelView]
    min_severity: str
    enabled: bool
    revision: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class SubscriberList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    subscribers: list[SubscriberView]


class SubscriberRemoved(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    subscriber_id: str
    removed: bool


class NotificationView(BaseModel):
    """One message as one channel of one subscriber received it (locally: would have received it)."""

    model_config = ConfigDict(extra="forbid")
    notification_id: str
    subscriber_id: str
    subscriber_name: str | None = None
    channel_id: str
    channel_type: ChannelType
    message_id: str
    delivered_at: datetime
    status: Literal["sent", "handed_to_sns", "recorded", "failed"]
    detail: str
    attributes: dict[str, str]
    rendered: dict[str, Any]


class SubscriberNotifications(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    subscriber: SubscriberView
    notifications: list[NotificationView]


class NotificationList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str
    notifications: list[NotificationView]
