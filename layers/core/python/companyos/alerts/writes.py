"""Writes that tolerate a concurrent writer: an evaluation, a delivery, an escalation step and an
acknowledgement may all write one alert item; on a version conflict each re-reads the alert and
re-applies its own change — never overwriting what the other writer stored."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.adapters.transient import transient_code
from companyos.domain.alert_engine import Alert
from companyos.domain.errors import Conflict

BACKOFF_S = 0.05  # a throttled alert write is retried in place after 0.05, 0.1, 0.2 … s


def save_with_retry(
    repo: AlertRepo, alert: Alert, reapply: Callable[[Alert], Alert], attempts: int = 5
) -> Alert:
    """Save `alert`; on a version conflict (the escalation step logging a page, or an
    acknowledgement, wrote the alert meanwhile) re-read it and `reapply` this change to the fresh
    copy — never overwrite what the other writer stored, never fail the evaluation for it. A
    throttled write is retried in place: after a publish it is the write whose loss would send the
    notification again."""
    for attempt in range(attempts):
        try:
            repo.save(alert)
            return alert
        except Conflict:
            alert = reapply(repo.get(alert.alert_id))
        except Exception as exc:  # throttled: the same write again (it did not happen), after a pause
            _pause_if_transient(exc, attempt, attempts)
    raise Conflict("the alert kept changing while saving it", code="version_conflict")


def record_escalation(repo: AlertRepo, alert: Alert, record: dict[str, Any], attempts: int = 5) -> None:
    """Append a page to the alert's escalation log; an evaluation or acknowledgement may write the
    alert at the same moment, so re-read and re-apply on a version conflict (the page was sent); a
    throttled write is retried in place (lost, the retried step would page again)."""
    for attempt in range(attempts):
        esc = dict(alert.escalation or {})
        esc["notified"] = [*esc.get("notified", []), record]
        try:
            repo.save(alert.model_copy(update={"escalation": esc}))
            return
        except Conflict:
            alert = repo.get(alert.alert_id)
        except Exception as exc:
            _pause_if_transient(exc, attempt, attempts)
    raise Conflict("the alert kept changing while recording its escalation", code="version_conflict")


def _pause_if_transient(exc: Exception, attempt: int, attempts: int) -> None:
    """A throttled write did not happen: pause, then the caller writes it again; else re-raise."""
    if transient_code(exc) is None or attempt == attempts - 1:
        raise exc
    time.sleep(BACKOFF_S * 2**attempt)
