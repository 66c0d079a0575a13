"""Alerting use cases: evaluate a tenant, deliver, escalate; the inbox (list, acknowledge, resolve)
and per-tenant tuning. Every state change is written with its outbox and audited."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from companyos.adapters.alerts_repo import AlertRepo
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.config import Settings
from companyos.alerts import observe, routing
from companyos.alerts.notify import Publisher
from companyos.domain import clock
from companyos.domain.alert_engine import Alert, evaluate
from companyos.domain.alert_rules import (
    SEVERITY_RANK,
    AlertPack,
    EscalationRoutes,
    Rule,
    RuleTuning,
    effective_rules,
    load_pack,
    tune,
)
from companyos.domain.auth import Principal, authorize, personas_for
from companyos.domain.errors import Conflict, Forbidden, InvalidPayload, NotFound

log = logging.getLogger(__name__)
SYSTEM = "system:alerts"
RECENT = timedelta(days=7)


def _now() -> datetime:
    return clock.now()


@dataclass
class Runtime:
    """What the use cases need from the outside world (settings, SNS, Step Functions, the clock)."""

    settings: Settings
    publisher: Publisher
    now: Callable[[], datetime] = _now
    _sfn: Any = field(default=None, repr=False)

    @property
    def sfn(self) -> Any:
        if self._sfn is None:
            self._sfn = boto3.client("stepfunctions")
        return self._sfn

    @classmethod
    def from_settings(cls, s: Settings) -> Runtime:
        return cls(settings=s, publisher=Publisher(s.alerts_topic_arn, s.alerts_dlq_url))


def _audit(tenant_id: str, actor: str, role: str, action: str, alert: Alert | None, **details: Any) -> None:
    target = f"alert:{alert.alert_id}" if alert else f"tenant:{tenant_id}"
    if alert:
        details = {"rule": alert.rule_id, "labels": alert.labels, "episode": alert.episode, **details}
    AuditTrail(tenant_id).append(
        AuditEvent(
            actor=actor,
            role=role,
            action=action,
            target=target,
            reason=details.pop("reason", ""),
            details=details,
        )
    )


def _material(a: Alert | None, b: Alert) -> bool:
    """Whether `b` differs from `a` in anything but the evaluation timestamp."""
    return a is None or a.model_dump(exclude={"updated_at"}) != b.model_dump(exclude={"updated_at"})


# ---------------------------------------------------------------------------------- evaluation


@dataclass
class Observations:
    results: list[Mapping[str, Any]] = field(default_factory=list)  # kpi_run Map results
    metrics: list[Mapping[str, Any]] = field(default_factory=list)
    slos: list[Mapping[str, Any]] = field(default_factory=list)
    snapshot: bool = True


def tenant_rules(pack: AlertPack, repo: AlertRepo) -> list[Rule]:
    return effective_rules(pack, repo.tunings())


def evaluate_tenant(rt: Runtime, tenant_id: str, obs: Observations) -> dict[str, Any]:
    pack, repo, now = load_pack(), AlertRepo(tenant_id), rt.now()
    rules = tenant_rules(pack, repo)
    existing = repo.alerts()
    run_rules = {r.id for r in pack.rules if r.source == "run"}
    samples = observe.signal_samples(tenant_id, rules, now)
    if obs.snapshot:
        samples += observe.snapshots_for(tenant_id, rules)
    run_kpis = {str(r["kpi_id"]) for r in obs.results if r.get("kpi_id")} | {
        a.labels["kpi"]
        for a in existing.values()
        if a.state in ("pending", "firing") and "kpi" in a.labels and a.rule_id in run_rules
    }
    samples += observe.run_samples(tenant_id, run_kpis, pack.runtime_anomaly)
    samples += observe.metric_samples(obs.metrics) + observe.slo_samples(obs.slos)
    ev = evaluate(tenant_id, rules, samples, existing, now)
    for n in ev.notifications:
        a = ev.changed[n.alert.alert_id]
        ev.changed[a.alert_id] = a.model_copy(update={"outbox": [*a.outbox, n.status]})
    transitions = []
    for alert_id, after in ev.changed.items():
        before = existing.get(alert_id)
        if not _material(before, after):
            continue
        after = _save_with_retry(repo, after, functools.partial(_keep_concurrent, after))
        ev.changed[alert_id] = after
        old = before.state if before else "inactive"
        if old != after.state:
            transitions.append({"alert_id": alert_id, "rule": after.rule_id, "from": old, "to": after.state})
            if after.state == "resolved":
                _stop_execution(rt, after, "the alert resolved")
            _audit(
                tenant_id,
                SYSTEM,
                "system",
                f"alert.{after.state}",
                after,
                value=after.value,
                threshold=after.threshold,
                previous_state=old,
            )
    current = {**existing, **ev.changed}
    delivery = deliver(rt, repo, pack, current)
    escalations = start_escalations(rt, repo, current)
    return {
        "tenant_id": tenant_id,
        "samples": len(samples),
        "transitions": transitions,
        **delivery,
        "escalations": escalations,
    }


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
        done = _save_with_retry(
            repo,
            a.model_copy(update={"outbox": []}),
            functools.partial(_clear_sent, sent),
        )
        current[a.alert_id] = done
    return {
        "messages": len(outcomes),
        "dead_lettered": outcomes.count("dead_lettered"),
    }


# ---------------------------------------------------------------------------------- escalation


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
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                repo.save(before.model_copy(update={"escalation": None}))  # not started: retried next time
                current[a.alert_id] = repo.get(a.alert_id)
                raise
        _audit(a.tenant_id, SYSTEM, "system", "alert.escalation_started", a, execution=arn, targets=targets)
        started.append(arn)
    return started


def _save_with_retry(
    repo: AlertRepo, alert: Alert, reapply: Callable[[Alert], Alert], attempts: int = 5
) -> Alert:
    """Save `alert`; on a version conflict (the escalation step logging a page, or an
    acknowledgement, wrote the alert meanwhile) re-read it and `reapply` this change to the fresh
    copy — never overwrite what the other writer stored, never fail the evaluation for it."""
    for _ in range(attempts):
        try:
            repo.save(alert)
            return alert
        except Conflict:
            alert = reapply(repo.get(alert.alert_id))
    raise Conflict("the alert kept changing while saving it", code="version_conflict")


def _keep_concurrent(evaluated: Alert, fresh: Alert) -> Alert:
    """The evaluator's result with what other writers own, for the same episode: the escalation
    (its page log) and the acknowledgement."""
    if fresh.episode != evaluated.episode:
        return evaluated
    return evaluated.model_copy(
        update={"escalation": fresh.escalation, "acked_at": fresh.acked_at, "acked_by": fresh.acked_by}
    )


def _clear_sent(sent: list[str], fresh: Alert) -> Alert:
    return fresh.model_copy(update={"outbox": _without(fresh.outbox, sent)})


def _without(outbox: list[str], sent: list[str]) -> list[str]:
    """The outbox minus the notifications just published (once each)."""
    left = list(outbox)
    for status in sent:
        if status in left:
            left.remove(status)
    return left


def _record_escalation(repo: AlertRepo, alert: Alert, record: dict[str, Any], attempts: int = 5) -> None:
    """Append a page to the alert's escalation log; an evaluation or acknowledgement may write the
    alert at the same moment, so re-read and re-apply on a version conflict (the page was sent)."""
    for _ in range(attempts):
        esc = dict(alert.escalation or {})
        esc["notified"] = [*esc.get("notified", []), record]
        try:
            repo.save(alert.model_copy(update={"escalation": esc}))
            return
        except Conflict:
            alert = repo.get(alert.alert_id)
    raise Conflict("the alert kept changing while recording its escalation", code="version_conflict")


def escalate_step(rt: Runtime, state: dict[str, Any]) -> dict[str, Any]:
    """One step of the escalation state machine: check, then notify `targets[level]`.

    The check before every step is what makes an acknowledgement (or a resolution, or a new
    episode of the same alert) stop the escalation."""
    repo = AlertRepo(state["tenant_id"])
    alert = repo.get(state["alert_id"])
    stop = None
    if alert.episode != state["episode"]:
        stop = "superseded"
    elif alert.acked_at:
        stop = "acknowledged"
    elif alert.state != "firing":
        stop = alert.state
    if stop:
        return {**state, "done": True, "stopped": stop}
    level = int(state["level"])
    target = state["targets"][level]
    outcome = rt.publisher.publish(routing.escalation_message(alert, target, level, rt.settings.cockpit_url))
    record = {"target": target, "level": level, "at": rt.now().isoformat(), "outcome": outcome}
    _record_escalation(repo, alert, record)
    _audit(
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
    done = nxt >= len(state["targets"])
    return {**state, "level": nxt, "done": done, "wait_s": 0 if done else int(state["waits"][nxt])}


# ---------------------------------------------------------------------------------- inbox


def audience(pack: AlertPack, alert: Alert) -> set[str]:
    """Personas (and teams) that see the alert: its routes and its drill-down dashboard."""
    try:
        rule = pack.rule(alert.rule_id)
    except KeyError:
        return {alert.persona}
    return {p for p, _ in pack.routes_of(rule)} | {alert.persona}


def _view(a: Alert) -> dict[str, Any]:
    doc = a.model_dump(mode="json", exclude={"outbox"})
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


def _stop_execution(rt: Runtime, alert: Alert, cause: str) -> None:
    arn = (alert.escalation or {}).get("execution_arn")
    if not arn:
        return
    with contextlib.suppress(ClientError, BotoCoreError):
        rt.sfn.stop_execution(executionArn=arn, error="AlertAcknowledged", cause=cause[:256])


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
    _audit(tenant_id, principal.email, role, "alert.acknowledged", acked, reason=note)
    _stop_execution(rt, acked, f"acknowledged by {principal.email}")
    return _view(acked)


def resolve(rt: Runtime, principal: Principal, tenant_id: str, alert_id: str, note: str) -> dict[str, Any]:
    role = authorize(principal, "alerts:ack", tenant_id)
    repo = AlertRepo(tenant_id)
    alert = repo.get(alert_id)
    _visible(principal, tenant_id, alert, role)
    if alert.state not in ("firing", "pending"):
        raise Conflict(
            f"alert '{alert_id}' is {alert.state}; only open alerts are resolved", code="alert_not_open"
        )
    now = rt.now().isoformat()
    outbox = [*alert.outbox, "resolved"] if alert.notified_at else alert.outbox
    done = alert.model_copy(
        update={
            "state": "resolved",
            "resolved_at": now,
            "resolved_by": principal.email,
            "updated_at": now,
            "outbox": outbox,
        }
    )
    repo.save(done)
    _audit(tenant_id, principal.email, role, "alert.resolved", done, reason=note, previous_state=alert.state)
    _stop_execution(rt, done, f"resolved by {principal.email}")
    current = {done.alert_id: done}
    deliver(rt, repo, load_pack(), current)
    return _view(current[done.alert_id])


# ---------------------------------------------------------------------------------- tuning


def _rule_view(rule: Rule, tuning: RuleTuning | None, routes: list[tuple[str, str]]) -> dict[str, Any]:
    doc = rule.model_dump(mode="json", exclude={"seed"})
    doc["enabled"] = not (tuning and tuning.enabled is False)
    doc["tuned"] = tuning.model_dump(exclude_none=True) if tuning else {}
    doc["deliver_to"] = [{"persona": p, "channel": c} for p, c in routes]
    return doc


def rules_view(principal: Principal, tenant_id: str) -> dict[str, Any]:
    authorize(principal, "alerts:view", tenant_id)
    pack, repo = load_pack(), AlertRepo(tenant_id)
    tunings = repo.tunings()
    out = []
    for r in pack.rules:
        t = tunings.get(r.id)
        effective = tune(r, t) if t else r
        out.append(_rule_view(effective, t, pack.routes_of(r)))
    return {"tenant": tenant_id, "pack_version": pack.version, "rules": out}


def tune_rule(
    principal: Principal, tenant_id: str, rule_id: str, change: Mapping[str, Any]
) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    pack, repo = load_pack(), AlertRepo(tenant_id)
    try:
        rule = pack.rule(rule_id)
    except KeyError as exc:
        raise NotFound(f"no alert rule '{rule_id}'", code="rule_not_found") from exc
    try:
        tuning = RuleTuning.model_validate(dict(change))
        tuned = tune(rule, tuning)
    except (ValidationError, ValueError) as exc:
        raise InvalidPayload(
            f"invalid tuning of {rule_id}: {_first_error(exc)}", code="invalid_tuning"
        ) from exc
    tunings = repo.tunings()
    before = tunings.get(rule_id)
    tunings[rule_id] = tuning
    repo.put_tunings(tunings)
    _audit(
        tenant_id,
        principal.email,
        role,
        "alert.rule_tuned",
        None,
        rule=rule_id,
        before=before.model_dump(exclude_none=True) if before else None,
        after=tuning.model_dump(exclude_none=True),
    )
    return _rule_view(tuned, tuning, pack.routes_of(rule))


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def routes_view(principal: Principal, tenant_id: str) -> dict[str, Any]:
    authorize(principal, "alerts:view", tenant_id)
    repo = AlertRepo(tenant_id)
    custom = repo.routes()
    routes = custom or load_pack().escalation
    return {"tenant": tenant_id, "custom": custom is not None, **routes.model_dump(mode="json")}


def put_routes(principal: Principal, tenant_id: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    try:
        routes = EscalationRoutes.model_validate(dict(doc))
    except ValidationError as exc:
        raise InvalidPayload(
            f"invalid escalation routes: {_first_error(exc)}", code="invalid_routes"
        ) from exc
    repo = AlertRepo(tenant_id)
    before = repo.routes()
    repo.put_routes(routes)
    _audit(
        tenant_id,
        principal.email,
        role,
        "alert.routes_changed",
        None,
        before=before.model_dump(mode="json") if before else None,
        after=routes.model_dump(mode="json"),
    )
    return {"tenant": tenant_id, "custom": True, **routes.model_dump(mode="json")}


@cache
def runtime() -> Runtime:
    from companyos.adapters.config import settings

    return Runtime.from_settings(settings())


def tenants_of(event: Mapping[str, Any]) -> list[str]:
    """Tenants named by a kpi_run state machine output (RefreshScores) or a direct event."""
    ids: set[str] = set()
    for key in ("refreshed", "results", "events"):
        ids |= {
            str(r["tenant_id"]) for r in event.get(key) or [] if isinstance(r, dict) and r.get("tenant_id")
        }
    if event.get("tenant_id"):
        ids.add(str(event["tenant_id"]))
    return sorted(ids)


def evaluate_event(rt: Runtime, event: Mapping[str, Any]) -> dict[str, Any]:
    """`results` (the kpi_run Map results) and `events` (the score refresh's run events) name the
    runs that just ended; the run log is read for their outcomes."""
    results: Iterable[Mapping[str, Any]] = [
        r for key in ("results", "events") for r in event.get(key) or [] if isinstance(r, dict)
    ]
    out = []
    for tenant_id in tenants_of(event):
        obs = Observations(
            results=[r for r in results if r.get("tenant_id") == tenant_id],
            metrics=list(event.get("metrics") or []),
            slos=list(event.get("slo") or []),
            snapshot=bool(event.get("snapshot", True)),
        )
        out.append(evaluate_tenant(rt, tenant_id, obs))
    return {"evaluated": out}
