"""Delivery of the outbox: every stored-but-undelivered notification of an alert is published, then
cleared from the alert item (only what was just published: a concurrent writer may have added more)."""

from __future__ import annotations

import functools

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts import routing
from companyos.alerts.context import Runtime
from companyos.alerts.notify import DeliveryFailed
from companyos.alerts.writes import save_with_retry
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import AlertPack


def deliver(rt: Runtime, repo: AlertRepo, pack: AlertPack, current: dict[str, Alert]) -> dict[str, int]:
    """Publish every stored-but-undelivered notification (this evaluation's and leftovers), one
    message group (rule, status) at a time, each cleared from its alerts' outboxes once published —
    so when a group cannot be delivered (`DeliveryFailed`: neither SNS nor the DLQ took it) the
    retry sends that group again, never the groups that went out before it."""
    items = [(a, status) for a in current.values() if a.outbox for status in a.outbox]
    groups: dict[tuple[str, str], list[tuple[Alert, str]]] = {}
    for alert, status in items:
        groups.setdefault((alert.rule_id, status), []).append((alert, status))
    outcomes: list[str] = []
    failed: DeliveryFailed | None = None
    for _, group in sorted(groups.items()):
        messages = routing.alert_messages(pack, repo.tenant_id, group, rt.settings.cockpit_url)
        try:
            outcomes += [rt.publisher.publish(m) for m in messages]
        except DeliveryFailed as exc:  # its outbox entries stay: the retried task sends them
            failed = failed or exc
            continue
        for alert_id in dict.fromkeys(a.alert_id for a, _ in group):
            sent = [status for a, status in group if a.alert_id == alert_id]
            latest = current[alert_id]
            current[alert_id] = save_with_retry(
                repo,
                latest.model_copy(update={"outbox": _without(latest.outbox, sent)}),
                functools.partial(_clear_sent, sent),
            )
    if failed is not None:
        raise failed
    return {
        "messages": len(outcomes),
        "dead_lettered": outcomes.count("dead_lettered"),
    }


def _clear_sent(sent: list[str], fresh: Alert) -> Alert:
    return fresh.model_copy(update={"outbox": _without(fresh.outbox, sent)})


def _without(outbox: list[str], sent: list[str]) -> list[str]:
    """The outbox minus the notifications just published (once each)."""
    left = list(outbox)
    for status in sent:
        if status in left:
            left.remove(status)
    return left
