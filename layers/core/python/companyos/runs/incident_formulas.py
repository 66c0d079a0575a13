"""Incident formulas: incidents folded from their events, time to restore (MTTR) and P1 counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from companyos.domain import dora
from companyos.runs.formula_base import (
    Buckets,
    Folded,
    Outcome,
    Params,
    SignalRow,
    first_of,
    parse_time,
    window_samples,
    window_sum,
)

# ------------------------------------------------------------------ incidents


@dataclass
class _Incident:
    triggered: datetime | None = None  # known start only: a triggered event or the incident's created_at
    resolved: datetime | None = None
    first_seen: datetime | None = None  # the first event on record (an upper bound of the start)
    priority: str | None = None
    priority_at: datetime | None = None


def incidents_of(rows: Sequence[SignalRow]) -> dict[str, _Incident]:
    """Fold incident events into incidents. `incident`: incident_id, transition (triggered /
    acknowledged / resolved / priority_updated; else status or event_type `incident.<status>`),
    priority, occurred_at (the event time, else the signal time), incident_created_at if known."""
    out: dict[str, _Incident] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        iid = first_of(s.attributes, "incident_id", "id")
        if iid is None:
            continue
        at = parse_time(s.attributes.get("occurred_at")) or s.occurred_at
        status = str(first_of(s.attributes, "transition", "status", "event_type") or "").lower()
        status = status.removeprefix("incident.")
        inc = out.setdefault(str(iid), _Incident())
        created = parse_time(s.attributes.get("incident_created_at"))
        if status == "triggered" or created:
            inc.triggered = min(t for t in (inc.triggered, created or at) if t is not None)
        inc.first_seen = inc.first_seen or at
        if status == "resolved":
            inc.resolved = max(filter(None, (inc.resolved, at)))
        priority = s.attributes.get("priority")
        if isinstance(priority, Mapping):
            priority = priority.get("summary") or priority.get("name")
        if priority and (inc.priority_at is None or at >= inc.priority_at):
            inc.priority, inc.priority_at = str(priority), at
    return out


def fold_restore_times(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Minutes from first trigger to resolution, per resolved incident, on the day it was resolved.
    An incident whose start is not on record (a `resolved` without its `triggered` and without the
    incident's created_at) is left out: counting it as a 0-minute recovery would pull MTTR down."""
    for inc in incidents_of(signals.get("incident", ())).values():
        if inc.triggered and inc.resolved and inc.resolved >= inc.triggered:
            minutes = (inc.resolved - inc.triggered).total_seconds() / 60
            yield inc.resolved.date(), {"restore_min": [minutes], "resolved": 1.0}


def mttr(buckets: Buckets, end: date, days: int) -> Outcome:
    """Median minutes from trigger to resolution of the incidents resolved in the window (DORA's
    time to restore service is a median)."""
    samples = window_samples(buckets, end, days, "restore_min")
    value = dora.time_to_restore_minutes(samples)
    if value is None:
        return Outcome(None, f"no incident resolved in the last {days} days")
    return Outcome(value, detail={"incidents": len(samples)})


def fold_p1_incidents(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Incidents whose latest priority is one of params.priorities (default P1), on the trigger day."""
    wanted = {str(p).lower() for p in params.get("priorities", ["P1"])}
    for inc in incidents_of(signals.get("incident", ())).values():
        start = inc.triggered or inc.first_seen
        if start is None:
            continue
        is_p1 = (inc.priority or "").lower() in wanted
        yield start.date(), {"incidents": 1.0, "p1": 1.0 if is_p1 else 0.0}


def p1_incident_count(buckets: Buckets, end: date, days: int) -> Outcome:
    """P1 incidents per month (30 days), from the window's count."""
    return Outcome(window_sum(buckets, end, days, "p1") * 30.0 / days)
