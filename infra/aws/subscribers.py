"""Alert subscribers from a deploy-time records file: the e-mail and SMS subscriptions the stack makes.

An environment may name a records file in cdk.json (`alertSubscribersFile`, relative to the repository
root): `{"tenants": {"<tenant_id>": [<subscriber record>, ...]}}`, each record a
`companyos.domain.alert_subscribers.Subscriber` as JSON (what the subscriber API stores). For every
enabled subscriber's native channel (e-mail, SMS: `NATIVE_PROTOCOL`) the stack makes one SNS
subscription (SNS keeps one per endpoint and topic) whose filter policy is `sns_filter_policy` — the
alert policy and, for a subscriber on call, the escalation one under `$or` — so what AWS delivers is
what the notifier and the local outbox match (`alert_subscribers.matches`), and what the subscriber
API subscribes at runtime. Webhook-type channels (Slack, Teams, PagerDuty, signed webhooks) are
posted by the alert notifier from the runtime store, so the file may not hold them: they are added
through the subscriber API. Anything else wrong with the file fails synth naming the file and record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from companyos.domain.alert_rules import load_pack
from companyos.domain.alert_subscribers import (
    CARRIES,
    NATIVE_PROTOCOL,
    Subscriber,
    known_personas,
    sns_filter_policy,
    too_wide,
)
from pydantic import ValidationError


class SubscribersFileError(ValueError):
    """The records file cannot be deployed; the message names the file and the record."""


@dataclass(frozen=True)
class Record:
    tenant_id: str
    subscriber: Subscriber


@dataclass(frozen=True)
class NativeSubscription:
    """One SNS subscription: a native channel of a subscriber, under its filter policy."""

    tenant_id: str
    subscriber_id: str
    channel_id: str
    protocol: str  # NATIVE_PROTOCOL: email / sms
    endpoint: str
    filter_policy: dict[str, Any]

    @property
    def construct_id(self) -> str:
        """Stable per (tenant, subscriber, channel), so reordering the file replaces nothing (a
        replaced e-mail subscription would need confirming again); JSON keeps distinct ids distinct,
        and a construct id may not hold '/'."""
        parts = [self.tenant_id, self.subscriber_id, self.channel_id]
        return "Subscriber" + json.dumps(parts).replace("/", "\\u002f")


def _fail(path: Path, where: str, why: str) -> SubscribersFileError:
    return SubscribersFileError(f"alert subscribers file {path}: {where}: {why}")


def _errors(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())


def load(path: Path) -> list[Record]:
    """The file's subscriber records, validated; raises SubscribersFileError naming what is wrong."""
    try:
        doc: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise SubscribersFileError(f"alert subscribers file {path} does not exist") from None
    except json.JSONDecodeError as e:
        raise _fail(path, f"line {e.lineno}", f"not JSON ({e.msg})") from None
    if not isinstance(doc, dict) or set(doc) != {"tenants"} or not isinstance(doc["tenants"], dict):
        raise _fail(path, "top level", 'expected {"tenants": {"<tenant_id>": [<subscriber>, ...]}}')
    known = load_pack().personas
    records: list[Record] = []
    for tenant_id, subscribers in doc["tenants"].items():
        records.extend(_tenant(path, tenant_id, subscribers, known))
    return records


def _tenant(path: Path, tenant_id: str, subscribers: Any, known: tuple[str, ...]) -> list[Record]:
    if not tenant_id.strip():
        raise _fail(path, "tenants", "a tenant id is empty")
    if not isinstance(subscribers, list):
        raise _fail(path, f"tenant {tenant_id!r}", "expected a list of subscriber records")
    records: list[Record] = []
    for n, raw in enumerate(subscribers):
        where = f"tenant {tenant_id!r} record {n}"
        if isinstance(raw, dict) and isinstance(raw.get("subscriber_id"), str):
            where += f" ({raw['subscriber_id']})"
        try:
            sub = Subscriber.model_validate(raw)
        except ValidationError as e:
            raise _fail(path, where, f"not a subscriber record: {_errors(e)}") from None
        if any(r.subscriber.subscriber_id == sub.subscriber_id for r in records):
            raise _fail(path, where, f"subscriber_id {sub.subscriber_id!r} is given twice")
        _check(path, where, tenant_id, sub, known)
        records.append(Record(tenant_id, sub))
    return records


def _check(path: Path, where: str, tenant_id: str, sub: Subscriber, known: tuple[str, ...]) -> None:
    why = known_personas(sub.personas, known)
    if why:
        raise _fail(path, where, why)
    channel_ids: set[str] = set()
    for ch in sub.channels:
        if not ch.native:
            raise _fail(
                path,
                where,
                f"channel {ch.channel_id!r} is a {ch.type} channel, which the alert notifier posts from "
                "the runtime store: add webhook channels through the subscriber API "
                "(POST /api/alert-subscribers); this file holds e-mail and SMS channels only",
            )
        if ch.carries != CARRIES[ch.type]:
            raise _fail(
                path,
                where,
                f"channel {ch.channel_id!r}: a {ch.type} channel carries {list(CARRIES[ch.type])}",
            )
        if ch.channel_id in channel_ids:
            raise _fail(path, where, f"channel_id {ch.channel_id!r} is given twice")
        channel_ids.add(ch.channel_id)
    why = too_wide(tenant_id, sub)
    if why:
        raise _fail(path, where, why)


def native_subscriptions(records: list[Record]) -> list[NativeSubscription]:
    """The SNS subscriptions of the records: one per native channel of an enabled subscriber."""
    out = []
    for record in records:
        sub = record.subscriber
        for ch in sub.channels:
            policy = sns_filter_policy(record.tenant_id, sub, ch)  # None when disabled
            if policy is not None:
                out.append(
                    NativeSubscription(
                        tenant_id=record.tenant_id,
                        subscriber_id=sub.subscriber_id,
                        channel_id=ch.channel_id,
                        protocol=NATIVE_PROTOCOL[ch.type],
                        endpoint=ch.address,
                        filter_policy=policy,
                    )
                )
    return out
