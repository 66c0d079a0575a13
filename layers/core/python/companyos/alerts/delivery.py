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
from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts import routing
from companyos.alerts.context import Runtime
from companyos.alerts.notify import DeliveryFailed
from companyos.alerts.writes import save_with_retry
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import AlertPack

LEASE_S = 120  # a claim this old was left by a deliverer that died: the next delivery takes it over


def deliver(rt: Runtime, repo: AlertRepo, pack: AlertPack, current: dict[str, Alert]) -> dict[str, int]:
    """Claim and publish every undelivered notification (this evaluation's and leftovers), one
    message group (rule, status) at a time; each published claim is dropped, each group that could
    not be delivered (`DeliveryFailed`: neither SNS nor the DLQ took it) goes back to the outbox so
    the retry sends that group again — never the groups that went out before it."""
    claim, now = uuid.uuid4().hex, rt.now()
    groups: dict[tuple[str, str], list[tuple[Alert, str]]] = {}
    for alert_id, alert in list(current.items()):
        if not alert.outbox and not _expired(alert, now):
            continue
        current[alert_id] = claimed = _claim(repo, alert, claim, now)
        for status in _mine(claimed, claim):
            groups.setdefault((claimed.rule_id, status), []).append((claimed, status))
    outcomes: list[str] = []
    failed: DeliveryFailed | None = None
    for _, group in sorted(groups.items()):
        messages = routing.alert_messages(pack, repo.tenant_id, group, rt.settings.cockpit_url)
        try:
            outcomes += [rt.publisher.publish(m) for m in messages]
            done = True
        except DeliveryFailed as exc:
            failed, done = failed or exc, False
        for alert_id in dict.fromkeys(a.alert_id for a, _ in group):
            statuses = [s for a, s in group if a.alert_id == alert_id]
            settle = functools.partial(_settle, claim, statuses, done)
            current[alert_id] = save_with_retry(repo, settle(current[alert_id]), settle)
    if failed is not None:
        raise failed
    return {"messages": len(outcomes), "dead_lettered": outcomes.count("dead_lettered")}


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
