"""Toil ratio (kpi-health-model.md "Efficiency": manual ops time / total ops time, in percent).

Inputs: `ops_time` entries (sources/time_tracking.py: Toggl Track detailed CSV, Jira worklogs), and,
where the tenant opts in, PagerDuty `incident` events: each incident's time from its first
acknowledgement to its resolution is reactive, interrupt-driven ops work, counted as toil and as ops
time (on the day it was resolved).

The rule (contract `params`, so a tenant changes it with its own version of the contract):

* `toil_tags` (default `toil`, `manual`, `interrupt`): an entry with one of these Toggl tags / Jira
  labels (case-insensitive) is toil;
* `toil_projects` (default none): every entry of these projects (Toggl project / Jira project key)
  is toil;
* `ops_projects` (default none = every entry): when set, only the entries of these projects (and
  toil-tagged entries) are ops time at all — the rest of the export (feature work) is left out;
* `teams` (default none): project or client -> team for the breakdown (else the Toggl client, else
  the project);
* `pagerduty_interrupts` (default false): add the PagerDuty acknowledged -> resolved durations.

An entry in several uploads (overlapping exports) is counted once, by its `entry_id`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from companyos.runs.formula_base import (
    Buckets,
    Builtin,
    Counter,
    Folded,
    Outcome,
    Params,
    SignalRow,
    parse_time,
    window_sum,
)
from companyos.runs.formulas import register

DEFAULT_TOIL_TAGS = ("toil", "manual", "interrupt")
PAGERDUTY = "PagerDuty interrupts"


@dataclass(frozen=True)
class Classified:
    """One counted stretch of ops time: when, how long, toil or not, why, whose team."""

    day: date
    seconds: float
    toil: bool
    category: str  # "tag: <tag>", "project: <project>", PAGERDUTY, or "other ops work"
    team: str
    source: str | None


def _lower_set(raw: object) -> set[str]:
    return {str(v).strip().lower() for v in raw if str(v).strip()} if isinstance(raw, list | tuple) else set()


def classify(attrs: Mapping[str, object], params: Params) -> tuple[bool, str] | None:
    """(toil?, category) of one entry by the tenant's rule; None when it is not ops time."""
    tags = [str(t).lower() for t in attrs.get("tags") or () if isinstance(t, str)]  # type: ignore[attr-defined]
    project = str(attrs.get("project") or "")
    toil_tags = [str(t).lower() for t in params.get("toil_tags", DEFAULT_TOIL_TAGS)]
    tag = next((t for t in toil_tags if t in tags), None)
    if tag is not None:
        return True, f"tag: {tag}"
    if project.lower() in _lower_set(params.get("toil_projects", ())):
        return True, f"project: {project}"
    ops = _lower_set(params.get("ops_projects", ()))
    if ops and project.lower() not in ops:
        return None
    return False, "other ops work"


def _team(attrs: Mapping[str, object], params: Params) -> str:
    teams = params.get("teams") or {}
    for key in (attrs.get("project"), attrs.get("client")):
        if key and isinstance(teams, Mapping) and str(key) in teams:
            return str(teams[str(key)])
    return str(attrs.get("client") or attrs.get("project") or "(no project)")


def _entries(rows: Sequence[SignalRow]) -> Iterator[SignalRow]:
    """One row per entry_id (the last one read wins: a re-upload of an edited entry)."""
    latest: dict[str, SignalRow] = {}
    for s in rows:
        latest[str(s.attributes.get("entry_id") or s.signal_id)] = s
    return iter(latest.values())


def _interrupts(rows: Sequence[SignalRow]) -> Iterator[tuple[datetime, datetime, SignalRow]]:
    """(first acknowledged, last resolved, the resolve event) of each PagerDuty incident."""
    acked: dict[str, datetime] = {}
    resolved: dict[str, tuple[datetime, SignalRow]] = {}
    for s in rows:
        iid = s.attributes.get("incident_id")
        at = parse_time(s.attributes.get("occurred_at")) or s.occurred_at
        transition = str(s.attributes.get("transition") or "")
        if iid is None:
            continue
        if transition == "acknowledged" and (str(iid) not in acked or at < acked[str(iid)]):
            acked[str(iid)] = at
        if transition == "resolved" and (str(iid) not in resolved or at > resolved[str(iid)][0]):
            resolved[str(iid)] = (at, s)
    for iid, (end, s) in resolved.items():
        start = acked.get(iid)
        if start is not None and end >= start:
            yield start, end, s


def classified(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Iterator[Classified]:
    """Every counted stretch of ops time of the rows read, by the tenant's rule."""
    for s in _entries(signals.get("ops_time", ())):
        a = s.attributes
        verdict = classify(a, params)
        seconds = a.get("duration_s")
        if verdict is None or not isinstance(seconds, int | float) or seconds < 0:
            continue
        yield Classified(
            s.occurred_at.date(), float(seconds), verdict[0], verdict[1], _team(a, params), s.source
        )
    if params.get("pagerduty_interrupts") is True:
        for start, end, s in _interrupts(signals.get("incident", ())):
            teams = s.attributes.get("teams")
            team = teams[0] if isinstance(teams, list) and teams else s.attributes.get("service_summary")
            seconds = (end - start).total_seconds()
            yield Classified(end.date(), seconds, True, PAGERDUTY, str(team or "(no team)"), s.source)


def fold_toil(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Per day: ops seconds (`total_s`), toil seconds (`toil_s`), PagerDuty interrupt seconds."""
    for c in classified(signals, params):
        counters: dict[str, Counter] = {"total_s": c.seconds, "toil_s": c.seconds if c.toil else 0.0}
        if c.category == PAGERDUTY:
            counters["interrupt_s"] = c.seconds
        yield c.day, counters


def toil_ratio(buckets: Buckets, end: date, days: int) -> Outcome:
    """% of the window's ops time that was toil: Σ toil_s / Σ total_s."""
    total = window_sum(buckets, end, days, "total_s")
    if not total:
        return Outcome(None, f"no ops time tracked in the last {days} days")
    toil = window_sum(buckets, end, days, "toil_s")
    detail = {
        "toil_hours": round(toil / 3600, 4),
        "ops_hours": round(total / 3600, 4),
        "interrupt_hours": round(window_sum(buckets, end, days, "interrupt_s") / 3600, 4),
    }
    return Outcome(100.0 * toil / total, None, detail)


register("toil_ratio", Builtin(fold_toil, toil_ratio))
