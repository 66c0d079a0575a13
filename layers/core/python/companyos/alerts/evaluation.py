"""Evaluation: gather a tenant's samples (signals, snapshot, run outcomes, metrics, SLOs), run the
alert engine, store every material change with its outbox and audit each transition, then deliver
and start escalations. `evaluate_event` is the alerts task's entry (after a KPI run's score refresh
or on a direct observation event)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts import observe
from companyos.alerts.context import SYSTEM, Runtime, audit
from companyos.alerts.delivery import deliver
from companyos.alerts.escalation import start_escalations, stop_execution
from companyos.alerts.writes import save_with_retry
from companyos.domain.alert_engine import Alert, evaluate
from companyos.domain.alert_rules import AlertPack, Rule, effective_rules, load_pack


@dataclass
class Observations:
    results: list[Mapping[str, Any]] = field(default_factory=list)  # kpi_run Map results
    metrics: list[Mapping[str, Any]] = field(default_factory=list)
    slos: list[Mapping[str, Any]] = field(default_factory=list)
    snapshot: bool = True


def tenant_rules(pack: AlertPack, repo: AlertRepo) -> list[Rule]:
    return effective_rules(pack, repo.tunings())


def _material(a: Alert | None, b: Alert) -> bool:
    """Whether `b` differs from `a` in anything but the evaluation timestamp."""
    return a is None or a.model_dump(exclude={"updated_at"}) != b.model_dump(exclude={"updated_at"})


def _keep_concurrent(evaluated: Alert, stored: dict[str, str], fresh: Alert) -> Alert:
    """The evaluator's result with what other writers own, for the same episode: the escalation
    (its page log) and the acknowledgement. Notes the fresh state in `stored`; when another
    evaluation already made this transition, its notifications were queued by that evaluation."""
    stored["state"] = fresh.state
    if fresh.episode != evaluated.episode:
        return evaluated.model_copy(update={"sending": fresh.sending})  # a delivery's claim, never ours
    update: dict[str, object] = {
        "escalation": fresh.escalation,
        "acked_at": fresh.acked_at,
        "acked_by": fresh.acked_by,
        "sending": fresh.sending,  # a delivery's claim, never ours
    }
    if fresh.state == evaluated.state:
        update["outbox"] = fresh.outbox  # not ours to send twice
    return evaluated.model_copy(update=update)


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
    slos: Sequence[Mapping[str, Any]] = obs.slos
    if not slos and any(r.source == "slo_burn" for r in rules):  # the pulled SLO windows
        slos = observe.burn_observations(tenant_id, now)
    samples += observe.metric_samples(obs.metrics) + observe.slo_samples(slos)
    ev = evaluate(tenant_id, rules, samples, existing, now)
    for n in ev.notifications:
        a = ev.changed[n.alert.alert_id]
        ev.changed[a.alert_id] = a.model_copy(update={"outbox": [*a.outbox, n.status]})
    transitions = []
    for alert_id, after in ev.changed.items():
        before = existing.get(alert_id)
        if not _material(before, after):
            continue
        stored: dict[str, str] = {}  # the state a conflicting writer stored meanwhile, if any
        after = save_with_retry(repo, after, functools.partial(_keep_concurrent, after, stored))
        ev.changed[alert_id] = after
        # a concurrent evaluation that made this very transition already audited it (and its
        # outbox went out with it): this one changed nothing, so it logs nothing
        old = stored.get("state") or (before.state if before else "inactive")
        if old != after.state:
            transitions.append({"alert_id": alert_id, "rule": after.rule_id, "from": old, "to": after.state})
            if after.state == "resolved":
                stop_execution(rt, after, "the alert resolved")
            audit(
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
