"""Delivery of the outbox, once per notification even when evaluations overlap.

An alert's stored-but-undelivered notifications (its `outbox`) are first *claimed*: moved, by a
versioned write of the alert item, into `sending` under this delivery's claim id. Of several
deliveries reading the same outbox only one claim succeeds (the others re-read the item and find
the outbox empty), so only one publishes. A published claim is dropped; a group SNS and the DLQ
both refused is put back into the outbox for the retried task. A claim older than `LEASE_S` (its
deliverer died between the claim and the publish) is taken over by the next delivery: at least
once, never twice at the same time.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts import grouping, routing
from companyos.alerts.context import SYSTEM, Runtime, audit
from companyos.alerts.notify import DeliveryFailed
from companyos.alerts.writes import save_with_retry
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import AlertPack

LEASE_S = 120  # a claim this old was left by a deliverer that died: the next delivery takes it over
KEPT_SILENCED = 20  # silenced notifications kept on the alert item (the audit trail has them all)
Mute = Callable[[Alert], dict[str, Any] | None]


def deliver(
    rt: Runtime, repo: AlertRepo, pack: AlertPack, current: dict[str, Alert], mute: Mute | None = None
) -> dict[str, int]:
    """Claim and publish every undelivered notification (this evaluation's and leftovers), one
    message group (rule, status) at a time; each published claim is dropped, each group that could
    not be delivered (`DeliveryFailed`: neither SNS nor the DLQ took it) goes back to the outbox so
    the retry sends that group again — never the groups that went out before it. A notification
    of a muted alert (`mute`: a silence, a KPI in maintenance) is recorded on the alert and in the
    audit trail as silenced, and not sent. A group whose rule's grouping window is open
    (`grouping.held_until`) stays in the outbox until the window's flush sends it with the rest."""
    claim, now = uuid.uuid4().hex, rt.now()
    groups: dict[tuple[str, str], list[tuple[Alert, str]]] = {}
    silenced = 0
    for alert_id, alert in list(current.items()):
        if not alert.outbox and not _expired(alert, now):
            continue
        current[alert_id] = claimed = _claim(repo, alert, claim, now)
        why = mute(claimed) if mute is not None else None
        if why is not None and _mine(claimed, claim):
            current[alert_id] = _record_silenced(repo, claimed, claim, why, now)
            silenced += len(_mine(claimed, claim))
            continue
        for status in _mine(claimed, claim):
            groups.setdefault((claimed.rule_id, status), []).append((claimed, status))
    outcomes: list[str] = []
    failed: DeliveryFailed | None = None
    held = 0
    for (rule_id, status), group in sorted(groups.items()):
        ids = list(dict.fromkeys(a.alert_id for a, _ in group))
        sent, error = _send_group(rt, repo, pack, (rule_id, status), group, ids, now)
        if sent is None:  # the rule's grouping window is open: these go out with the rest at its end
            held += len(group)
        outcomes += sent or []
        failed = failed or error
        done = sent is not None and error is None
        for alert_id in ids:
            statuses = [s for a, s in group if a.alert_id == alert_id]
            settle = functools.partial(_settle, claim, statuses, done)
            current[alert_id] = save_with_retry(repo, settle(current[alert_id]), settle)
    if failed is not None:
        raise failed
    return {
        "messages": len(outcomes),
        "dead_lettered": outcomes.count("dead_lettered"),
        "silenced": silenced,
        "held": held,
    }


def _send_group(
    rt: Runtime,
    repo: AlertRepo,
    pack: AlertPack,
    key: tuple[str, str],
    group: list[tuple[Alert, str]],
    ids: list[str],
    now: datetime,
) -> tuple[list[str] | None, DeliveryFailed | None]:
    """Publish one (rule, status) group: its outcomes, or None when the grouping window holds it
    (its flush is scheduled); the failure when neither SNS nor the DLQ took it."""
    rule_id, status = key
    until = grouping.held_until(grouping.window(repo, rule_id, status), ids, pack.group_interval_s, now)
    if until is not None:
        grouping.start_flush(rt, repo.tenant_id, rule_id, status, until)
        return None, None
    messages = routing.alert_messages(pack, repo.tenant_id, group, rt.settings.cockpit_url)
    try:
        outcomes: list[str] = [rt.publisher.publish(m) for m in messages]
    except DeliveryFailed as exc:
        return [], exc
    grouping.record_sent(repo, rule_id, status, ids, now, pack.group_interval_s)
    return outcomes, None


def _record_silenced(repo: AlertRepo, alert: Alert, claim: str, why: dict[str, Any], now: datetime) -> Alert:
    """The claimed notifications dropped unsent and recorded (newest `KEPT_SILENCED` on the item)."""
    statuses = _mine(alert, claim)

    def drop(fresh: Alert) -> Alert:
        kept = _settle(claim, statuses, True, fresh)
        records = [{"status": s, "at": now.isoformat(), "episode": fresh.episode, **why} for s in statuses]
        log = [*fresh.silenced_notifications, *records][-KEPT_SILENCED:]
        return kept.model_copy(update={"silenced": why, "silenced_notifications": log})

    saved = save_with_retry(repo, drop(alert), drop)
    for status in statuses:
        audit(repo.tenant_id, SYSTEM, "system", "alert.notification_silenced", saved, status=status, **why)
    return saved


def _expired(alert: Alert, now: datetime) -> bool:
    cutoff = (now - timedelta(seconds=LEASE_S)).isoformat()
    return any(str(s.get("at") or "") < cutoff for s in alert.sending)


def _take(claim: str, now: datetime, fresh: Alert) -> Alert:
    """The alert with its outbox (and any expired claim) moved into `sending` under `claim`."""
    cutoff = (now - timedelta(seconds=LEASE_S)).isoformat()
    kept = [s for s in fresh.sending if str(s.get("at") or "") >= cutoff]
    taken = [*fresh.outbox, *(str(s["status"]) for s in fresh.sending if s not in kept)]
    mine = [{"status": s, "claim": claim, "at": now.isoformat()} for s in taken]
    return fresh.model_copy(update={"outbox": [], "sending": [*kept, *mine]})


def _claim(repo: AlertRepo, alert: Alert, claim: str, now: datetime) -> Alert:
    take = functools.partial(_take, claim, now)
    return save_with_retry(repo, take(alert), take)


def _mine(alert: Alert, claim: str) -> list[str]:
    return [str(s["status"]) for s in alert.sending if s.get("claim") == claim]


def _settle(claim: str, statuses: list[str], published: bool, fresh: Alert) -> Alert:
    """Drop this claim's entries for `statuses`; back into the outbox when they were not published."""
    left: list[dict[str, Any]] = []
    back: list[str] = []
    todo = list(statuses)
    for entry in fresh.sending:
        if entry.get("claim") == claim and entry.get("status") in todo:
            todo.remove(str(entry["status"]))
            back.append(str(entry["status"]))
        else:
            left.append(entry)
    outbox = [*fresh.outbox, *back] if not published else fresh.outbox
    return fresh.model_copy(update={"sending": left, "outbox": outbox})
