"""Postmortems of the incident rows the mttr run delivers (runs/rows_ops.py): which incident has a
postmortem (GitHub issues labelled `postmortem`, sources/github_postmortems.py) and the window's
postmortem coverage.

Postmortem coverage = resolved qualifying incidents of the window with a postmortem / resolved
qualifying incidents of the window, in percent. An incident qualifies when its latest priority is
P1 or P2 (SEV1 / SEV2), or, without a priority, when its urgency is high; it counts in the window
its resolution falls in. A postmortem is any issue still labelled as one that names the incident
(its PagerDuty URL or number); a closed issue is a completed postmortem. No qualifying incident
resolved in the window: no coverage (None, Unknown), never 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from companyos.runs.rows import MAX_ROWS, Signal

QUALIFYING_PRIORITIES = frozenset({"p1", "p2", "sev1", "sev2", "sev-1", "sev-2"})
# the issue's last state wins; at one instant a deletion or move beats an edit
_FINAL_ACTIONS = {"deleted": 2, "transferred": 2, "unlabeled": 1}


def qualifies(inc: dict[str, Any]) -> bool:
    """A P1/P2 incident, or one without a priority paged with high urgency."""
    priority = str(inc.get("priority") or "").strip().lower()
    if priority:
        return priority in QUALIFYING_PRIORITIES
    return str(inc.get("urgency") or "").lower() == "high"


def _rank(s: Signal) -> tuple[Any, int]:
    return (s.occurred_at, _FINAL_ACTIONS.get(str(s.attributes.get("action")), 0))


def postmortems_by_incident(signals: Iterable[Signal]) -> dict[str, dict[str, Any]]:
    """`id:<incident id>` / `number:<incident number>` -> the postmortem naming it (each issue's
    latest state; an issue no longer labelled, deleted or moved names nothing)."""
    latest: dict[str, Signal] = {}
    for s in signals:
        a = s.attributes
        issue = f"{a.get('repository')}#{a.get('number')}"
        held = latest.get(issue)
        if held is None or _rank(s) >= _rank(held):
            latest[issue] = s
    out: dict[str, dict[str, Any]] = {}
    for issue, s in sorted(latest.items(), key=lambda kv: kv[1].occurred_at):
        a = s.attributes
        if not a.get("active"):
            continue
        record = {
            "issue": issue,
            "title": a.get("title"),
            "url": a.get("url"),
            "completed": bool(a.get("completed")),
            "state": "completed" if a.get("completed") else "in progress",
            "closed_at": a.get("closed_at"),
            "signal_id": s.signal_id,
        }
        for iid in a.get("incident_ids") or []:
            out.setdefault(f"id:{iid}", record)
        for n in a.get("incident_numbers") or []:
            out.setdefault(f"number:{n}", record)
    return out


def attach(incidents: Sequence[dict[str, Any]], signals: Iterable[Signal]) -> None:
    """Set each folded incident's `postmortem` (None when no issue names it)."""
    by_ref = postmortems_by_incident(signals)
    for inc in incidents:
        found = by_ref.get(f"id:{inc['id']}")
        if found is None and inc.get("number") is not None:
            found = by_ref.get(f"number:{inc['number']}")
        inc["postmortem"] = found


def coverage(incidents: Sequence[dict[str, Any]], since: str, days: int) -> dict[str, Any]:
    """The window's postmortem coverage of resolved qualifying incidents (after `attach`)."""
    due = [
        i for i in incidents if i["status"] == "resolved" and str(i["resolved_at"]) >= since and qualifies(i)
    ]
    covered = [i for i in due if i.get("postmortem")]
    return {
        "window_days": days,
        "rule": "resolved P1/P2 incidents (no priority: high urgency) with a postmortem",
        "qualifying": len(due),
        "covered": len(covered),
        "completed": sum(1 for i in covered if i["postmortem"]["completed"]),
        "pct": round(100.0 * len(covered) / len(due), 1) if due else None,
        "missing": [
            {"id": i["id"], "number": i.get("number"), "title": i.get("title"), "priority": i.get("priority")}
            for i in due
            if not i.get("postmortem")
        ][:MAX_ROWS],
    }
