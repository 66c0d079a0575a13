"""Grouping across evaluations (Alertmanager's `group_interval`): one incident's burst is one message.

Within one evaluation the alerts of a rule that change together are one message already
(`routing.alert_messages`). Across evaluations — a scanner's findings arriving in several deliveries,
incidents opened a minute apart — each evaluation used to send its own message. Now each (rule,
status) of a tenant has a window: the first message opens it; for `AlertPack.group_interval_s` after
that, a notification of an alert the window has not carried yet is held (back in the alert's outbox)
and a flush is scheduled for the window's end, where every held alert of the rule goes out in one
message and opens the next window. A notification of an alert the window already carried (the same
alert re-firing) is not held. Escalation pages are never held.

The window is a catalog item (`ALERTGROUP#<rule>#<status>`), written under its version. The flush is
an execution of the escalation state machine (`{"kind": "flush"}`: wait, then deliver the tenant's
outbox), named by the window, so one window starts one flush however many evaluations hold it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.adapters.aws import AwsError, error_code
from companyos.alerts.context import Runtime
from companyos.domain.errors import Conflict

KEPT_IDS = 200  # alert ids a window remembers (a burst larger than this is still one message)


@dataclass(frozen=True)
class Window:
    sent_at: datetime
    alert_ids: tuple[str, ...]

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Window | None:
        if not data:
            return None
        return cls(datetime.fromisoformat(str(data["sent_at"])), tuple(data.get("alert_ids") or ()))


def held_until(
    window: Window | None, alert_ids: list[str], interval_s: int, now: datetime
) -> datetime | None:
    """When a group of these alerts may go out, if it must wait for the window to end; else None."""
    if window is None or interval_s <= 0:
        return None
    end = window.sent_at + timedelta(seconds=interval_s)
    if now >= end or set(alert_ids) <= set(window.alert_ids):
        return None
    return end


def window(repo: AlertRepo, rule_id: str, status: str) -> Window | None:
    return Window.of(repo.group_window(rule_id, status))


def record_sent(
    repo: AlertRepo, rule_id: str, status: str, alert_ids: list[str], now: datetime, interval_s: int
) -> None:
    """A message of these alerts went out: open a window, or add them to the open one."""
    for _ in range(5):
        current = Window.of(repo.group_window(rule_id, status))
        if current is None or now >= current.sent_at + timedelta(seconds=interval_s):
            data = {"sent_at": now.isoformat(), "alert_ids": sorted(set(alert_ids))[:KEPT_IDS]}
        else:
            ids = sorted({*current.alert_ids, *alert_ids})[:KEPT_IDS]
            data = {"sent_at": current.sent_at.isoformat(), "alert_ids": ids}
        try:
            repo.put_group_window(rule_id, status, data)
            return
        except Conflict:
            continue  # another delivery wrote the window meanwhile: re-read, re-apply


def start_flush(rt: Runtime, tenant_id: str, rule_id: str, status: str, until: datetime) -> str | None:
    """Schedule the window's flush (once per window); the execution name, None without a machine."""
    arn = rt.settings.escalation_state_machine_arn
    if not arn:
        return None
    key = json.dumps([tenant_id, rule_id, status, until.isoformat()])
    name = f"flush-{tenant_id[:40]}-{hashlib.sha256(key.encode()).hexdigest()[:20]}"
    state = {
        "kind": "flush",
        "tenant_id": tenant_id,
        "rule": rule_id,
        "status": status,
        "phase": "wait",
        "wait_s": max(1, math.ceil((until - rt.now()).total_seconds()) + 1),
        "done": False,
    }
    try:
        rt.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(state))
    except AwsError as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
    return name
