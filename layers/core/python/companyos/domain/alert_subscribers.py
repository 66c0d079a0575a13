"""Alert subscribers: who receives a tenant's alerts, where, and which messages — pure.

A subscriber is a person (name, e-mail) who takes one or more personas' alerts (the pack's personas:
the five dashboards and the teams the pipeline alerts name), optionally stands on call for
escalation targets (`sre_primary`, `ciso`, …), and has channels: an e-mail address, a phone (SMS),
a Slack or Microsoft Teams incoming webhook, a PagerDuty Events v2 routing key, or a generic
HTTPS webhook whose posts are signed (HMAC-SHA256, Stripe-style `t=…,v1=…`).

Routing sends one message per (rule, status, persona, channel) — `routing.alert_messages` — with
the attributes SNS filter policies match on. A subscriber's channel takes the messages whose
`channel` attribute is one it carries (`CARRIES`: a Teams webhook carries the pack's chat channel,
`slack`; a generic webhook the channels its owner picks), for one of its personas and at or above
its minimum severity; escalation pages whose `target` it is on call for. `filter_policies` is that
rule as SNS filter policies — `sns_filter_policy` the one policy of a subscription (CDK and the
subscriber API subscribe e-mail and SMS endpoints with it) — and `matches` is the
same rule over a message's attributes (the notifier and the local outbox), so what AWS delivers and
what the outbox shows cannot differ.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from companyos.domain.alert_rules import SEVERITY_RANK, Channel, Severity

ChannelType = Literal["email", "sms", "slack", "teams", "pagerduty", "webhook"]
MESSAGE_CHANNELS: tuple[Channel, ...] = ("sms", "pagerduty", "email", "slack")
# which of the pack's message channels each kind of endpoint carries (webhook: its `carries`)
CARRIES: dict[str, tuple[Channel, ...]] = {
    "email": ("email",),
    "sms": ("sms",),
    "slack": ("slack",),
    "teams": ("slack",),
    "pagerduty": ("pagerduty",),
    "webhook": ("pagerduty",),
}
# SNS delivers these itself (a subscription per endpoint); the notifier function posts the others
NATIVE_PROTOCOL: dict[str, str] = {"email": "email", "sms": "sms"}
# the policy of a disabled subscriber's SNS subscriptions: matches nothing, keeps the confirmation
DISABLED_POLICY: dict[str, list[str]] = {"kind": ["subscriber_disabled"]}
# SNS filter policy limit: at most 150 combinations of values across its attributes
MAX_COMBINATIONS = 150
MAX_CHANNELS = 10
ONCALL_TARGET = r"^[a-z][a-z0-9_]{0,39}$"

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
_SLACK = re.compile(r"^https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/_-]{8,200}$")
_TEAMS = re.compile(
    r"^https://([A-Za-z0-9-]+\.webhook\.office\.com|[A-Za-z0-9.-]+\.logic\.azure\.com(:443)?"
    r"|[A-Za-z0-9.-]+\.environment\.api\.powerplatform\.com(:443)?)/[\x21-\x7e]{8,600}$"
)
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{2,5})?(/[\x21-\x7e]*)?$")


def _address_error(kind: str, address: str) -> str | None:
    """Why `address` is not a `kind` endpoint, or None."""
    checks = {
        "email": (_EMAIL, "an e-mail address (name@example.com)"),
        "sms": (_E164, "a phone number in E.164 form (+14155550123)"),
        "slack": (_SLACK, "a Slack incoming webhook URL (https://hooks.slack.com/services/…)"),
        "teams": (_TEAMS, "a Teams incoming webhook or workflow URL (https://….webhook.office.com/…)"),
        "pagerduty": (_ROUTING_KEY, "a PagerDuty Events v2 routing key (32 letters and digits)"),
        "webhook": (_HTTPS, "an https:// URL"),
    }
    pattern, what = checks[kind]
    return None if pattern.match(address) else f"a {kind} channel's address is {what}"


class ChannelIn(BaseModel):
    """One endpoint of a subscriber, as written."""

    model_config = ConfigDict(extra="forbid")

    type: ChannelType
    address: str = Field(min_length=1, max_length=600, description="e-mail, E.164 phone, URL or routing key")
    carries: tuple[Channel, ...] | None = Field(
        default=None, description="webhook only: the pack channels it takes (default: pagerduty)"
    )

    @model_validator(mode="after")
    def _address(self) -> Self:
        why = _address_error(self.type, self.address.strip())
        if why:
            raise ValueError(why)
        if self.carries is not None and self.type != "webhook":
            raise ValueError(
                f"only a webhook picks what it carries; a {self.type} channel carries {CARRIES[self.type][0]}"
            )
        if self.carries is not None and not self.carries:
            raise ValueError("a webhook carries at least one channel")
        return self


class SubscriberIn(BaseModel):
    """A subscriber as an administrator writes it (create, or replace with `expected_revision`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    email: str = Field(max_length=254, description="the person (who the subscriber is)")
    personas: tuple[str, ...] = Field(min_length=1, max_length=8)
    oncall: tuple[str, ...] = Field(default=(), max_length=8, description="escalation targets paged")
    channels: tuple[ChannelIn, ...] = Field(min_length=1, max_length=MAX_CHANNELS)
    min_severity: Severity = "info"
    enabled: bool = True
    reason: str = Field(default="", max_length=500)
    expected_revision: int | None = Field(default=None, ge=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a subscriber needs a name")
        return value.strip()

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value.strip()):
            raise ValueError("email is the person's e-mail address (name@example.com)")
        return value.strip().lower()

    @field_validator("oncall")
    @classmethod
    def _oncall(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for target in value:
            if not re.match(ONCALL_TARGET, target):
                raise ValueError(f"on-call target {target[:40]!r} is not a target name (a-z, 0-9, _)")
        return tuple(dict.fromkeys(value))

    @field_validator("personas")
    @classmethod
    def _personas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))


class SubscriberChannel(BaseModel):
    """A stored endpoint: its id within the subscriber, and the SNS subscription of a native one."""

    model_config = ConfigDict(extra="forbid")

    channel_id: str
    type: ChannelType
    address: str
    carries: tuple[Channel, ...]
    # the SNS subscription of a native endpoint (e-mail, SMS: one per endpoint and topic, with
    # `sns_filter_policy`); the notifier posts the others
    subscription_arns: tuple[str, ...] = ()
    secret: str | None = None  # webhook: the signing secret (shown once, on create)

    @property
    def native(self) -> bool:
        return self.type in NATIVE_PROTOCOL


class Subscriber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscriber_id: str
    name: str
    email: str
    personas: tuple[str, ...]
    oncall: tuple[str, ...] = ()
    channels: tuple[SubscriberChannel, ...]
    min_severity: Severity = "info"
    enabled: bool = True
    revision: int = 1
    created_at: AwareDatetime
    created_by: str
    updated_at: AwareDatetime
    updated_by: str


def severities_from(minimum: str) -> list[str]:
    """The severities at or above `minimum`, most severe first."""
    rank = SEVERITY_RANK[minimum]
    return [s for s, r in sorted(SEVERITY_RANK.items(), key=lambda kv: kv[1]) if r <= rank]


def normalised_address(kind: str, address: str) -> str:
    """An endpoint as stored and compared: trimmed; an e-mail address lower-case."""
    address = address.strip()
    return address.lower() if kind == "email" else address


def channels_of(body: SubscriberIn, ids: list[str]) -> tuple[SubscriberChannel, ...]:
    """The written channels as stored ones (ids given; carries filled in; no duplicates)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for written, channel_id in zip(body.channels, ids, strict=True):
        address = normalised_address(written.type, written.address)
        if (written.type, address) in seen:
            raise ValueError(f"the {written.type} channel {address[:60]!r} is given twice")
        seen.add((written.type, address))
        carries = written.carries if written.carries is not None else CARRIES[written.type]
        out.append(
            SubscriberChannel(
                channel_id=channel_id,
                type=written.type,
                address=address,
                carries=tuple(dict.fromkeys(carries)),
            )
        )
    return tuple(out)


def filter_policies(
    tenant_id: str, sub: Subscriber, channel: SubscriberChannel
) -> list[dict[str, list[str]]]:
    """The SNS filter policies (message attributes) of one channel of one subscriber: its personas'
    alerts on the channels it carries at or above its minimum severity and, when it is on call,
    the escalation pages of its targets. Empty when the subscriber is disabled."""
    if not sub.enabled:
        return []
    policies: list[dict[str, list[str]]] = [
        {
            "kind": ["alert"],
            "tenant": [tenant_id],
            "persona": sorted(sub.personas),
            "channel": sorted(str(c) for c in channel.carries),
            "severity": severities_from(sub.min_severity),
        }
    ]
    if sub.oncall:
        policies.append({"kind": ["escalation"], "tenant": [tenant_id], "target": sorted(sub.oncall)})
    return policies


def sns_filter_policy(tenant_id: str, sub: Subscriber, channel: SubscriberChannel) -> dict[str, Any] | None:
    """The one SNS filter policy of a native channel's subscription (SNS keeps one subscription per
    endpoint and topic): the alert policy, or — on call — the alert and escalation policies under
    `$or` with the tenant in common. None when the subscriber is disabled."""
    policies = filter_policies(tenant_id, sub, channel)
    if not policies:
        return None
    if len(policies) == 1:
        return dict(policies[0])
    return {"tenant": [tenant_id], "$or": [{k: v for k, v in p.items() if k != "tenant"} for p in policies]}


def combinations(policy: dict[str, Any]) -> int:
    """How many value combinations SNS counts for a policy: the product of its value lists, an `$or`
    counting the sum of its branches."""
    n = 1
    for name, values in policy.items():
        n *= sum(combinations(b) for b in values) if name == "$or" else len(values)
    return n


def too_wide(tenant_id: str, sub: Subscriber) -> str | None:
    """Why a subscriber's filter policies exceed SNS's limit, or None."""
    for ch in sub.channels:
        policies = (
            [sns_filter_policy(tenant_id, sub, ch)] if ch.native else filter_policies(tenant_id, sub, ch)
        )
        for policy in policies:
            if policy is not None and combinations(policy) > MAX_COMBINATIONS:
                return (
                    f"the {ch.type} channel's filter would have {combinations(policy)} combinations of "
                    f"persona x channel x severity (SNS allows {MAX_COMBINATIONS}): fewer personas, "
                    "or a higher minimum severity"
                )
    return None


def policy_matches(policy: dict[str, list[str]], attributes: dict[str, Any]) -> bool:
    """SNS's exact-string matching of a filter policy against message attributes."""
    return all(str(attributes.get(name, "")) in values for name, values in policy.items())


def matches(tenant_id: str, sub: Subscriber, channel: SubscriberChannel, attributes: dict[str, Any]) -> bool:
    """Whether a message with these attributes reaches this channel of the subscriber."""
    return any(policy_matches(p, attributes) for p in filter_policies(tenant_id, sub, channel))


def known_personas(personas: tuple[str, ...], known: tuple[str, ...]) -> str | None:
    """Why a subscriber's personas are not the pack's, or None."""
    unknown = [p for p in personas if p not in known]
    if unknown:
        return f"unknown persona {unknown[0][:40]!r}: one of {', '.join(known)}"
    return None
