"""The alert inbox: what a persona sees (firing, recent), one alert, acknowledge and resolve. Every
write is audited; acknowledging or resolving stops the alert's escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts.context import Runtime, audit
from companyos.alerts.delivery import deliver
from companyos.alerts.escalation import stop_execution
from companyos.alerts.writes import save_with_retry
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import SEVERITY_RANK, AlertPack, load_pack
from companyos.domain.auth import Principal, authorize, personas_for
from companyos.domain.errors import Conflict, Forbidden

RECENT = timedelta(days=7)


def audience(pack: AlertPack, alert: Alert) -> set[str]:
    """Personas (and teams) that see the alert: its routes and its drill-down dashboard."""
    try:
        rule = pack.rule(alert.rule_id)
    except KeyError:
        return {alert.persona}
    return {p for p, _ in pack.routes_of(rule)} | {alert.persona}


def _view(a: Alert) -> dict[str, Any]:
    doc = a.model_dump(mode="json", exclude={"outbox", "sending"})
    doc["acknowledged"] = a.acked_at is not None
    return doc


def list_alerts(
    principal: Principal, tenant_id: str, persona: str, view: str, now: datetime
) -> dict[str, Any]:
    authorize(principal, "dashboard:view", tenant_id, persona)
    pack = load_pack()
    wanted = {"firing": ("firing", "pending"), "recent": ("firing", "pending", "resolved")}[view]
    since = (now - RECENT).isoformat()
    alerts = [
        a
        for a in AlertRepo(tenant_id).alerts().values()
        if a.state in wanted
        and persona in audience(pack, a)
        and (a.state != "resolved" or (a.resolved_at or "") >= since)
    ]
    alerts.sort(
        key=lambda a: (a.state != "firing", SEVERITY_RANK.get(a.severity, 9), a.fired_at or a.since or "")
    )
    return {"tenant": tenant_id, "persona": persona, "view": view, "alerts": [_view(a) for a in alerts]}


def _visible(principal: Principal, tenant_id: str, alert: Alert, role: str) -> None:
    if not (audience(load_pack(), alert) & set(personas_for(role))) and role not in (
        "tenant_admin",
        "platform_admin",
        "auditor",
    ):
        raise Forbidden(f"role '{role}' does not see alert '{alert.alert_id}'", code="alert_forbidden")


def get_alert(principal: Principal, tenant_id: str, alert_id: str) -> dict[str, Any]:
    role = authorize(principal, "alerts:view", tenant_id)
    alert = AlertRepo(tenant_id).get(alert_id)
    _visible(principal, tenant_id, alert, role)
    return _view(alert)


def acknowledge(
    rt: Runtime, principal: Principal, tenant_id: str, alert_id: str, note: str
) -> dict[str, Any]:
    role = authorize(principal, "alerts:ack", tenant_id)
    repo = AlertRepo(tenant_id)
    alert = repo.get(alert_id)
    _visible(principal, tenant_id, alert, role)
    if alert.acked_at:
        return _view(alert)  # idempotent: a repeated acknowledgement changes nothing
    if alert.state not in ("firing", "pending"):
        raise Conflict(
            f"alert '{alert_id}' is {alert.state}; only open alerts are acknowledged", code="alert_not_open"
        )
    acked = alert.model_copy(update={"acked_at": rt.now().isoformat(), "acked_by": principal.email})
    repo.save(acked)
    audit(tenant_id, principal.email, role, "alert.acknowledged", acked, reason=note)
    stop_execution(rt, acked, f"acknowledged by {principal.email}")
    return _view(acked)


# Sources the evaluator re-reads from stored data every time (snapshot, rows, signals, run log, SLO
# windows): their open alerts resolve by themselves. Only event-supplied metrics cannot be re-checked.
REEVALUATED = ("kpi", "health", "dimension", "row", "signal", "run", "slo_burn")


def _reevaluated(alert: Alert) -> bool:
    try:
        return load_pack().rule(alert.rule_id).source in REEVALUATED
    except KeyError:  # a rule no longer in the pack: nothing will evaluate it again
        return False


def resolve(rt: Runtime, principal: Principal, tenant_id: str, alert_id: str, note: str) -> dict[str, Any]:
    role = authorize(principal, "alerts:ack", tenant_id)
    repo = AlertRepo(tenant_id)
    alert = repo.get(alert_id)
    _visible(principal, tenant_id, alert, role)
    if alert.state not in ("firing", "pending"):
        raise Conflict(
            f"alert '{alert_id}' is {alert.state}; only open alerts are resolved", code="alert_not_open"
        )
    if _reevaluated(alert):
        # The rule's input is re-read from stored data at every evaluation and its condition held at
        # the last one: resolved by hand, the next evaluation would fire it again as a new episode
        # (new messages, escalation restarted, the acknowledgement lost).
        raise Conflict(
            f"the condition of {alert.rule_id} still holds ({alert.value} {alert.op} {alert.threshold} at "
            "its last evaluation): it resolves by itself once it no longer does. Acknowledge it to stop "
            "the escalation, or disable or retune the rule.",
            code="condition_holds",
            details={
                "value": alert.value,
                "op": alert.op,
                "threshold": alert.threshold,
                "state": alert.state,
            },
        )
    now = rt.now().isoformat()

    def resolved(fresh: Alert) -> Alert:
        """The resolve applied to the alert as stored (an escalation step may have logged a page
        meanwhile: re-read on a version conflict, never overwrite it)."""
        if fresh.state not in ("firing", "pending"):
            raise Conflict(f"alert '{alert_id}' is {fresh.state} now", code="alert_not_open")
        return fresh.model_copy(
            update={
                "state": "resolved",
                "resolved_at": now,
                "resolved_by": principal.email,
                "updated_at": now,
                "outbox": [*fresh.outbox, "resolved"] if fresh.notified_at else fresh.outbox,
            }
        )

    done = save_with_retry(repo, resolved(alert), resolved)
    audit(tenant_id, principal.email, role, "alert.resolved", done, reason=note, previous_state=alert.state)
    stop_execution(rt, done, f"resolved by {principal.email}")
    current = {done.alert_id: done}
    deliver(rt, repo, load_pack(), current)
    return _view(current[done.alert_id])
