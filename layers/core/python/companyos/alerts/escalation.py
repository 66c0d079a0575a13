"""Escalation: start the escalation state machine for a firing, notified, unacknowledged alert whose
route matches; each step of it pages the next target unless the alert was acknowledged, resolved or
superseded meanwhile; an acknowledgement or a resolution stops the execution."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.adapters.aws import AwsError, error_code
from companyos.alerts import routing
from companyos.alerts.context import SYSTEM, Runtime, audit
from companyos.alerts.writes import record_escalation
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import AlertPack, EscalationRoutes, load_pack


def _routes(pack: AlertPack, repo: AlertRepo) -> EscalationRoutes:
    return repo.routes() or pack.escalation


def start_escalations(rt: Runtime, repo: AlertRepo, current: dict[str, Alert]) -> list[str]:
    """Start the escalation state machine for firing, notified, unacknowledged alerts whose
    severity and dimension match a route. The execution name is the alert's episode, so a retried
    evaluation cannot start a second escalation."""
    routes = _routes(load_pack(), repo)
    started = []
    for a in list(current.values()):
        if a.state != "firing" or a.notified_at is None or a.inhibited_by or a.acked_at or a.escalation:
            continue
        if a.silenced:  # a silence or a maintenance mutes the pages too (started once it ends)
            continue
        route = routes.match(a.severity, a.dimension)
        if route is None or not rt.settings.escalation_state_machine_arn:
            continue
        targets = [route.receiver] + [s.notify for s in route.escalation]
        afters = [0] + [s.after_s for s in route.escalation]
        waits = [0] + [afters[i] - afters[i - 1] for i in range(1, len(afters))]
        name = f"{a.alert_id}-{a.episode}"
        state = {
            "tenant_id": a.tenant_id,
            "alert_id": a.alert_id,
            "episode": a.episode,
            "targets": targets,
            "waits": waits,
            "level": 0,
            "wait_s": 0,
            "done": False,
            # after the last level: the last target again every repeat_s, `repeats` times
            "repeat_s": route.repeat.after_s if route.repeat else 0,
            "repeats": route.repeat.times if route.repeat else 0,
        }
        # Record the escalation first, then start it: its first step reads a settled alert item.
        arn = rt.settings.escalation_state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        esc = {
            "execution_arn": arn,
            "receiver": route.receiver,
            "targets": targets,
            "started_at": rt.now().isoformat(),
            "notified": [],
        }
        before, a = a, a.model_copy(update={"escalation": esc})
        repo.save(a)
        current[a.alert_id] = a
        try:
            rt.sfn.start_execution(
                stateMachineArn=rt.settings.escalation_state_machine_arn, name=name, input=json.dumps(state)
            )
        except AwsError as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                repo.save(before.model_copy(update={"escalation": None}))  # not started: retried next time
                current[a.alert_id] = repo.get(a.alert_id)
                raise
        audit(a.tenant_id, SYSTEM, "system", "alert.escalation_started", a, execution=arn, targets=targets)
        started.append(arn)
    return started


def escalate_step(rt: Runtime, state: dict[str, Any]) -> dict[str, Any]:
    """One step of the escalation state machine: check, then notify `targets[level]`.

    The check before every step is what makes an acknowledgement (or a resolution, or a new
    episode of the same alert) stop the escalation. A level already in the alert's page log (of
    this episode: a new episode starts a new escalation) is not paged again by a retried step."""
    repo = AlertRepo(state["tenant_id"])
    alert = repo.get(state["alert_id"])
    stop = None
    if alert.episode != state["episode"]:
        stop = "superseded"
    elif alert.acked_at:
        stop = "acknowledged"
    elif alert.silenced:
        stop = "silenced"
    elif alert.state != "firing":
        stop = alert.state
    if stop:
        return {**state, "done": True, "stopped": stop}
    level, targets = int(state["level"]), state["targets"]
    target = targets[min(level, len(targets) - 1)]  # past the last level: a repeat of the last target
    paged = any(n.get("level") == level for n in (alert.escalation or {}).get("notified", []))
    if not paged:  # a retried step whose page went out and was logged (then, say, its audit failed)
        outcome = rt.publisher.publish(
            routing.escalation_message(alert, target, level, rt.settings.cockpit_url)
        )
        record = {"target": target, "level": level, "at": rt.now().isoformat(), "outcome": outcome}
        if level >= len(targets):
            record["repeat"] = level - len(targets) + 1
        record_escalation(repo, alert, record)
        audit(
            alert.tenant_id,
            SYSTEM,
            "system",
            "alert.escalated",
            alert,
            target=target,
            level=level,
            outcome=outcome,
        )
    nxt = level + 1
    done = nxt >= len(targets) + int(state.get("repeats") or 0)
    wait = 0 if done else int(state["waits"][nxt]) if nxt < len(targets) else int(state["repeat_s"])
    return {**state, "level": nxt, "done": done, "wait_s": wait}


def stop_execution(rt: Runtime, alert: Alert, cause: str) -> None:
    """Stop the alert's escalation, if it has one (best effort: an ended execution is fine)."""
    arn = (alert.escalation or {}).get("execution_arn")
    if not arn:
        return
    with contextlib.suppress(*AwsError):
        rt.sfn.stop_execution(executionArn=arn, error="AlertAcknowledged", cause=cause[:256])
