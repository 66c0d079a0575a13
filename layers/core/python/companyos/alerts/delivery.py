"""Delivery of the outbox: every stored-but-undelivered notification of an alert is published, then
cleared from the alert item (only what was just published: a concurrent writer may have added more)."""

from __future__ import annotations

import functools

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts import routing
from companyos.alerts.context import Runtime
from companyos.alerts.writes import save_with_retry
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import AlertPack


def deliver(rt: Runtime, repo: AlertRepo, pack: AlertPack, current: dict[str, Alert]) -> dict[str, int]:
    """Publish every stored-but-undelivered notification (this evaluation's and leftovers)."""
    pending = [a for a in current.values() if a.outbox]
    items = [(a, status) for a in pending for status in a.outbox]
    outcomes = [
        rt.publisher.publish(m)
        for m in routing.alert_messages(pack, repo.tenant_id, items, rt.settings.cockpit_url)
    ]
    for a in pending:
        sent = list(a.outbox)
        done = save_with_retry(
            repo,
            a.model_copy(update={"outbox": []}),
            functools.partial(_clear_sent, sent),
        )
        current[a.alert_id] = done
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
