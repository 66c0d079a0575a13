"""Subscribers of a tenant's alerts: list, create, replace, remove — and what each one received.

Administrators (`alerts:tune`) manage subscribers; a member sees the notifications of the
subscriber that is them (same e-mail). E-mail and SMS endpoints become SNS subscriptions of the
alerts topic with the subscriber's filter policies (SNS delivers them; an e-mail address confirms
its subscription once); chat, PagerDuty and webhook endpoints are posted by the alert notifier.
Every change commits in one transaction with its audit record; the SNS side is changed first and
undone when the write is refused, so a refused request leaves no subscription behind.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.aws import aws
from companyos.adapters.subscribers_repo import SubscriberRepo
from companyos.alerts import topology
from companyos.alerts.context import Runtime
from companyos.domain.alert_rules import load_pack
from companyos.domain.alert_subscribers import (
    DISABLED_POLICY,
    NATIVE_PROTOCOL,
    Subscriber,
    SubscriberChannel,
    SubscriberIn,
    channels_of,
    known_personas,
    normalised_address,
    sns_filter_policy,
    too_wide,
)
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import Conflict, Forbidden, InvalidPayload

MAX_SUBSCRIBERS = 200  # per tenant


# ------------------------------------------------------------------ views


def _channel_view(ch: SubscriberChannel, shown_secrets: frozenset[str] | set[str]) -> dict[str, Any]:
    view = ch.model_dump(mode="json", exclude={"secret", "subscription_arns"})
    view["delivered_by"] = "sns" if ch.native else "notifier"
    view["subscriptions"] = len(ch.subscription_arns)
    if ch.type == "webhook":
        view["secret_set"] = ch.secret is not None
        if ch.channel_id in shown_secrets:  # shown once: when it is made
            view["secret"] = ch.secret
    return view


def view(sub: Subscriber, shown_secrets: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    data = sub.model_dump(mode="json", exclude={"channels"})
    data["channels"] = [_channel_view(c, shown_secrets) for c in sub.channels]
    return data


def list_subscribers(principal: Principal, tenant_id: str) -> dict[str, Any]:
    authorize(principal, "alerts:tune", tenant_id)
    subs = sorted(SubscriberRepo(tenant_id).all(), key=lambda s: (s.name.lower(), s.subscriber_id))
    return {"tenant": tenant_id, "subscribers": [view(s) for s in subs]}


def get_subscriber(principal: Principal, tenant_id: str, subscriber_id: str) -> dict[str, Any]:
    sub = _readable(principal, tenant_id, subscriber_id)
    return view(sub)


def _readable(principal: Principal, tenant_id: str, subscriber_id: str) -> Subscriber:
    """The subscriber, for an administrator or for the person it is."""
    role = authorize(principal, "alerts:view", tenant_id)
    sub = SubscriberRepo(tenant_id).get(subscriber_id)
    if sub.email != principal.email.lower():
        try:
            authorize(principal, "alerts:tune", tenant_id)
        except Forbidden as exc:
            raise Forbidden(
                f"role '{role}' sees only the notifications of the subscriber that is you",
                code="action_forbidden",
            ) from exc
    return sub


# ------------------------------------------------------------------ writes


def _check(tenant_id: str, body: SubscriberIn, sub: Subscriber, routes_targets: set[str]) -> None:
    pack = load_pack()
    why = known_personas(body.personas, pack.personas)
    if why:
        raise InvalidPayload(why, code="unknown_persona", details={"path": "personas"})
    unknown = [t for t in body.oncall if t not in routes_targets]
    if unknown:
        raise InvalidPayload(
            f"on-call target {unknown[0]!r} is in none of the tenant's escalation routes: one of "
            + ", ".join(sorted(routes_targets)),
            code="unknown_target",
            details={"path": "oncall"},
        )
    wide = too_wide(tenant_id, sub)
    if wide:
        raise InvalidPayload(wide, code="filter_too_wide", details={"path": "personas"})


def _targets(tenant_id: str) -> set[str]:
    routes = AlertRepo(tenant_id).routes() or load_pack().escalation
    return {r.receiver for r in routes.routes} | {s.notify for r in routes.routes for s in r.escalation}


def _channels(body: SubscriberIn, old: Subscriber | None) -> tuple[tuple[SubscriberChannel, ...], set[str]]:
    """The written channels stored: a channel kept (same type and address) keeps its id, SNS
    subscriptions and secret; a new webhook gets a new secret (returned once)."""
    kept = {(c.type, c.address): c for c in (old.channels if old else ())}
    used = {c.channel_id for c in kept.values()}
    ids, n = [], 1
    for written in body.channels:
        address = normalised_address(written.type, written.address)
        if (written.type, address) in kept:
            ids.append(kept[(written.type, address)].channel_id)
            continue
        while f"ch{n}" in used:
            n += 1
        used.add(f"ch{n}")
        ids.append(f"ch{n}")
    try:
        fresh = channels_of(body, ids)
    except ValueError as exc:
        raise InvalidPayload(str(exc), code="duplicate_channel", details={"path": "channels"}) from exc
    shown: set[str] = set()
    out = []
    for ch in fresh:
        before = kept.get((ch.type, ch.address))
        update: dict[str, Any] = {}
        if before is not None:
            update = {"subscription_arns": before.subscription_arns, "secret": before.secret}
        if ch.type == "webhook" and not (before and before.secret):
            update["secret"] = "whsec_" + secrets.token_urlsafe(24)
            shown.add(ch.channel_id)
        out.append(ch.model_copy(update=update))
    return tuple(out), shown


class _Sns:
    """The SNS side of a change, undone (`undo`) when the subscriber's write is refused."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.made: list[str] = []
        self.restore: list[tuple[str, str]] = []  # (arn, previous policy)
        self.removed: list[str] = []

    @property
    def client(self) -> Any:
        return (self.rt.clients or aws()).sns

    def _dlq_arn(self) -> str | None:
        url = self.rt.settings.alerts_dlq_url
        if not url:
            return None
        account, name = url.rstrip("/").split("/")[-2:]
        return f"arn:aws:sqs:{self.rt.settings.region}:{account}:{name}"

    def sync(self, tenant_id: str, sub: Subscriber) -> Subscriber:
        """Each native channel's subscriptions made or re-filtered to the subscriber's policies."""
        channels = []
        for ch in sub.channels:
            if not ch.native:
                channels.append(ch)
                continue
            policy = sns_filter_policy(tenant_id, sub, ch) or DISABLED_POLICY  # disabled: match nothing,
            arns = list(ch.subscription_arns)  # keeping the (confirmed) subscription
            if arns:
                self._refilter(arns[0], policy)
                out = arns[:1]
            else:
                out = [self._subscribe(tenant_id, ch, policy)]
            for extra in arns[1:]:
                self._unsubscribe(extra)
            channels.append(ch.model_copy(update={"subscription_arns": tuple(out)}))
        return sub.model_copy(update={"channels": tuple(channels)})

    def _subscribe(self, tenant_id: str, ch: SubscriberChannel, policy: dict[str, Any]) -> str:
        arn = topology.subscribe(
            self.rt.settings.alerts_topic_arn,
            topology.Subscriber(tenant_id, ch.address, NATIVE_PROTOCOL[ch.type]),
            dlq_arn=self._dlq_arn(),
            clients=self.rt.clients,
            policy=policy,
        )
        self.made.append(arn)
        return arn

    def _refilter(self, arn: str, policy: dict[str, Any]) -> None:
        try:
            before = self.client.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        except Exception:  # gone (unsubscribed by its owner): nothing to restore
            before = {}
        self.client.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=json.dumps(policy)
        )
        if before.get("FilterPolicy"):
            self.restore.append((arn, str(before["FilterPolicy"])))

    def _unsubscribe(self, arn: str) -> None:
        self.removed.append(arn)

    def remove_all(self, sub: Subscriber) -> None:
        for ch in sub.channels:
            self.removed.extend(ch.subscription_arns)

    def commit(self) -> None:
        """After the write: what the new record no longer holds is unsubscribed."""
        for arn in self.removed:
            try:
                self.client.unsubscribe(SubscriptionArn=arn)
            except Exception:  # already gone
                continue

    def undo(self) -> None:
        for arn in self.made:
            try:
                self.client.unsubscribe(SubscriptionArn=arn)
            except Exception:
                continue
        for arn, policy in self.restore:
            try:
                self.client.set_subscription_attributes(
                    SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=policy
                )
            except Exception:
                continue


@contextmanager
def _sns_change(rt: Runtime) -> Iterator[_Sns]:
    change = _Sns(rt)
    try:
        yield change
    except BaseException:
        change.undo()
        raise
    change.commit()


def _audit(tenant_id: str, principal: Principal, role: str, action: str, sub: Subscriber, reason: str) -> Any:
    return AuditTrail(tenant_id).record(
        AuditEvent(
            actor=principal.email,
            role=role,
            action=action,
            target=f"alert_subscriber:{sub.subscriber_id}",
            reason=reason,
            details={
                "name": sub.name,
                "personas": list(sub.personas),
                "oncall": list(sub.oncall),
                "channels": [f"{c.channel_id}:{c.type}" for c in sub.channels],
                "min_severity": sub.min_severity,
                "enabled": sub.enabled,
                "revision": sub.revision,
            },
        )
    )


def create(
    rt: Runtime, principal: Principal, tenant_id: str, body: SubscriberIn, now: datetime
) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    repo = SubscriberRepo(tenant_id)
    if body.expected_revision is not None:
        raise InvalidPayload(
            "a new subscriber has no revision yet",
            code="invalid_payload",
            details={"path": "expected_revision"},
        )
    if len(repo.all()) >= MAX_SUBSCRIBERS:
        raise Conflict(f"a tenant has at most {MAX_SUBSCRIBERS} subscribers", code="subscriber_limit")
    channels, shown = _channels(body, None)
    sub = Subscriber(
        subscriber_id="sub_" + secrets.token_hex(6),
        name=body.name,
        email=body.email,
        personas=body.personas,
        oncall=body.oncall,
        channels=channels,
        min_severity=body.min_severity,
        enabled=body.enabled,
        revision=1,
        created_at=now,
        created_by=principal.email,
        updated_at=now,
        updated_by=principal.email,
    )
    _check(tenant_id, body, sub, _targets(tenant_id))
    with _sns_change(rt) as sns:
        sub = sns.sync(tenant_id, sub)
        repo.put(
            sub, _audit(tenant_id, principal, role, "alert.subscriber_created", sub, body.reason), create=True
        )
    return view(sub, shown)


def replace(
    rt: Runtime, principal: Principal, tenant_id: str, subscriber_id: str, body: SubscriberIn, now: datetime
) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    repo = SubscriberRepo(tenant_id)
    old = repo.get(subscriber_id)
    if body.expected_revision is not None and body.expected_revision != old.revision:
        raise Conflict(
            f"subscriber '{subscriber_id}' is at revision {old.revision}, not {body.expected_revision}",
            code="revision_mismatch",
            details={"current_revision": old.revision},
        )
    channels, shown = _channels(body, old)
    sub = old.model_copy(
        update={
            "name": body.name,
            "email": body.email,
            "personas": body.personas,
            "oncall": body.oncall,
            "channels": channels,
            "min_severity": body.min_severity,
            "enabled": body.enabled,
            "revision": old.revision + 1,
            "updated_at": now,
            "updated_by": principal.email,
        }
    )
    _check(tenant_id, body, sub, _targets(tenant_id))
    with _sns_change(rt) as sns:
        gone = {c.channel_id for c in old.channels} - {c.channel_id for c in sub.channels}
        for ch in old.channels:
            if ch.channel_id in gone:
                sns.removed.extend(ch.subscription_arns)
        sub = sns.sync(tenant_id, sub)
        repo.put(sub, _audit(tenant_id, principal, role, "alert.subscriber_replaced", sub, body.reason))
    return view(sub, shown)


def remove(
    rt: Runtime, principal: Principal, tenant_id: str, subscriber_id: str, reason: str
) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    repo = SubscriberRepo(tenant_id)
    sub = repo.get(subscriber_id)
    with _sns_change(rt) as sns:
        sns.remove_all(sub)
        repo.remove(sub, _audit(tenant_id, principal, role, "alert.subscriber_removed", sub, reason))
    return {"tenant": tenant_id, "subscriber_id": subscriber_id, "removed": True}


# ------------------------------------------------------------------ what they received


def notifications(
    principal: Principal, tenant_id: str, subscriber_id: str, limit: int = 100
) -> dict[str, Any]:
    sub = _readable(principal, tenant_id, subscriber_id)
    found = SubscriberRepo(tenant_id).notifications(subscriber_id, limit)
    return {
        "tenant": tenant_id,
        "subscriber": view(sub),
        "notifications": [n.to_dict() for n in found],
    }


def outbox(principal: Principal, tenant_id: str, limit: int = 100) -> dict[str, Any]:
    """Every subscriber's newest notifications, newest first (one Query per subscriber)."""
    authorize(principal, "alerts:tune", tenant_id)
    repo = SubscriberRepo(tenant_id)
    subs = {s.subscriber_id: s for s in repo.all()}
    found = [n for sid in subs for n in repo.notifications(sid, limit)]
    found.sort(key=lambda n: (n.delivered_at, n.notification_id), reverse=True)
    rows = [{**n.to_dict(), "subscriber_name": subs[n.subscriber_id].name} for n in found[:limit]]
    return {"tenant": tenant_id, "notifications": rows}
