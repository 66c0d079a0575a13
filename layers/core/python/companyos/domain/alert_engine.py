"""Alert evaluation, pure: samples + rules + the previous alert states → new states and the
notifications to send. No I/O here; `service.py` loads and stores.

Life of an alert (identity = tenant + rule + labels, hashed into `alert_id`):

    inactive ──cond──► pending ──cond held `for`──► firing ──cond false──► resolved
        ▲                 │ cond false                                       │ cond again
        └─────────────────┘                                                  └──► pending (episode+1)

A sample whose value is unknown (None) changes nothing: Unknown never fires and never resolves.
De-duplication: a firing alert is notified once per episode (`notified_at`); re-evaluating it
sends nothing. Inhibition: while an alert of rule A fires, alerts of the rules A `inhibits` with
equal values of the `equal` labels are not notified (they are notified if they still fire once
the inhibiting alert is gone).
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from companyos.domain.alert_rules import Rule

State = Literal["inactive", "pending", "firing", "resolved"]
Value = float | str | bool | None


@dataclass(frozen=True)
class Sample:
    """One observed value of a (source, metric) for one label set, with display context."""

    source: str
    metric: str
    labels: Mapping[str, str]
    value: Value
    context: Mapping[str, Any] = field(default_factory=dict)


class Alert(BaseModel):
    """The stored state of one alert identity."""

    alert_id: str
    tenant_id: str
    rule_id: str
    labels: dict[str, str]
    state: State
    severity: str
    dimension: str
    persona: str
    summary: str
    value: Value = None
    op: str = ""
    threshold: Value = None
    episode: int = 0
    since: str | None = None  # when the condition became true (pending start)
    fired_at: str | None = None
    resolved_at: str | None = None
    updated_at: str | None = None
    notified_at: str | None = None  # firing notification sent for this episode
    inhibited_by: str | None = None
    acked_at: str | None = None
    acked_by: str | None = None
    resolved_by: str | None = None  # a person (API) or "rule" / "rule_disabled"
    context: dict[str, Any] = {}
    escalation: dict[str, Any] | None = None
    outbox: list[str] = []  # notifications ("firing"/"resolved") stored but not yet delivered
    # notifications a delivery claimed and is publishing: {status, claim, at} (alerts/delivery.py)
    sending: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Notification:
    alert: Alert
    status: Literal["firing", "resolved"]


@dataclass
class Evaluation:
    changed: dict[str, Alert] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)


def fingerprint(tenant_id: str, rule_id: str, labels: Mapping[str, str]) -> str:
    raw = json.dumps([tenant_id, rule_id, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def condition(rule: Rule, value: Value) -> bool | None:
    """True/False, or None when the value is unknown or of the wrong kind for the rule."""
    if value is None:
        return None
    t = rule.threshold
    if rule.op in ("==", "!="):
        if isinstance(t, bool) != isinstance(value, bool):
            return None
        equal = value == t
        return equal if rule.op == "==" else not equal
    if isinstance(value, bool) or not isinstance(value, int | float) or isinstance(t, bool | str):
        return None
    v, th = float(value), float(t)
    return {"<": v < th, "<=": v <= th, ">": v > th, ">=": v >= th}[rule.op]


class _Lenient(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return kwargs.get(key, "?") if isinstance(key, str) else super().get_value(key, args, kwargs)


def summarise(rule: Rule, value: Value, labels: Mapping[str, str], context: Mapping[str, Any]) -> str:
    fields = {**context, **labels, "value": value, "threshold": rule.threshold, "op": rule.op}
    try:
        return _Lenient().format(rule.summary, **fields)
    except (ValueError, TypeError):
        return f"{rule.id}: {value} {rule.op} {rule.threshold}"


def _seconds_since(ts: str | None, now: datetime) -> float:
    return float("inf") if ts is None else (now - datetime.fromisoformat(ts)).total_seconds()


def _new(tenant_id: str, rule: Rule, s: Sample, alert_id: str) -> Alert:
    return Alert(
        alert_id=alert_id,
        tenant_id=tenant_id,
        rule_id=rule.id,
        labels=dict(s.labels),
        state="inactive",
        severity=rule.severity,
        dimension=rule.dimension,
        persona=rule.persona,
        summary="",
    )


def _step(rule: Rule, a: Alert, s: Sample, cond: bool, now: datetime) -> Alert:
    """One alert's transition for a known condition."""
    ts = now.isoformat()
    upd: dict[str, Any] = {
        "value": s.value,
        "op": rule.op,
        "threshold": rule.threshold,
        "severity": rule.severity,
        "dimension": rule.dimension,
        "persona": rule.persona,
        "summary": summarise(rule, s.value, s.labels, s.context),
        "context": dict(s.context),
        "updated_at": ts,
    }
    if cond:
        if a.state in ("inactive", "resolved"):
            upd.update(
                state="pending",
                since=ts,
                episode=a.episode + 1,
                fired_at=None,
                resolved_at=None,
                notified_at=None,
                acked_at=None,
                acked_by=None,
                resolved_by=None,
                escalation=None,
                inhibited_by=None,
            )
            a = a.model_copy(update=upd)
            upd = {}
        if a.state == "pending" and _seconds_since(a.since, now) >= rule.for_s:
            upd.update(state="firing", fired_at=ts)
    elif a.state == "pending":
        upd.update(state="inactive", since=None)
    elif a.state == "firing":
        upd.update(state="resolved", resolved_at=ts, resolved_by="rule")
    return a.model_copy(update=upd)


def evaluate(
    tenant_id: str,
    rules: Iterable[Rule],
    samples: Iterable[Sample],
    existing: Mapping[str, Alert],
    now: datetime,
) -> Evaluation:
    rules = list(rules)
    by_source: dict[tuple[str, str], list[Sample]] = {}
    for s in samples:
        by_source.setdefault((s.source, s.metric), []).append(s)
    current = dict(existing)
    result = Evaluation()
    for rule in rules:
        for s in by_source.get(rule.sample_key, []):
            alert_id = fingerprint(tenant_id, rule.id, s.labels)
            before = current.get(alert_id) or _new(tenant_id, rule, s, alert_id)
            cond = condition(rule, s.value)
            if cond is None:
                continue
            after = _step(rule, before, s, cond, now)
            if after.state != "inactive" or alert_id in current:
                current[alert_id] = after
                result.changed[alert_id] = after
    _resolve_disabled(rules, current, result, now)
    _inhibit(rules, current, result)
    _notifications(current, result, existing, now)
    return result


def _resolve_disabled(
    rules: list[Rule], current: dict[str, Alert], result: Evaluation, now: datetime
) -> None:
    active_rules = {r.id for r in rules}
    for alert_id, a in list(current.items()):
        if a.rule_id not in active_rules and a.state in ("pending", "firing"):
            state: State = "resolved" if a.state == "firing" else "inactive"
            a = a.model_copy(
                update={
                    "state": state,
                    "resolved_at": now.isoformat(),
                    "resolved_by": "rule_disabled",
                    "updated_at": now.isoformat(),
                }
            )
            current[alert_id] = result.changed[alert_id] = a


def _inhibit(rules: list[Rule], current: dict[str, Alert], result: Evaluation) -> None:
    """Set (or clear) `inhibited_by` on every firing alert from the firing alerts of inhibiting rules."""
    sources = [(r, inh) for r in rules for inh in r.inhibits]
    firing = [a for a in current.values() if a.state == "firing"]
    for target in firing:
        by = None
        for rule, inh in sources:
            if inh.rule != target.rule_id:
                continue
            by = next(
                (
                    src.alert_id
                    for src in firing
                    if src.rule_id == rule.id
                    and all(src.labels.get(k) == target.labels.get(k) for k in inh.equal)
                ),
                None,
            )
            if by:
                break
        if by != target.inhibited_by:
            current[target.alert_id] = result.changed[target.alert_id] = target.model_copy(
                update={"inhibited_by": by}
            )


def _notifications(
    current: dict[str, Alert], result: Evaluation, existing: Mapping[str, Alert], now: datetime
) -> None:
    for alert_id, a in list(result.changed.items()):
        if a.state == "firing" and a.notified_at is None and a.inhibited_by is None:
            a = a.model_copy(update={"notified_at": now.isoformat()})
            current[alert_id] = result.changed[alert_id] = a
            result.notifications.append(Notification(a, "firing"))
        elif a.state == "resolved" and a.notified_at is not None:
            before = existing.get(alert_id)
            if before is not None and before.state == "firing":
                result.notifications.append(Notification(a, "resolved"))
