"""The CISO's "Pending security reviews" list: pull requests waiting for a security review, folded
from the GitHub `security_review` signals (sources/github_reviews.py) at score refresh.

No KPI of the health model measures review queues, so no KPI run delivers these rows: like the OKR
progress panel, the refresh folds the stored signals and every item carries the signals it was
folded from (kind, count, newest) as evidence. Each pending review shows its age (since the
request that opened the current wait), who asked, and the pull request's link; its status is the
domain's `verdict.pending_review(age)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from companyos.domain import verdict
from companyos.runs.rows import MAX_ROWS, Signal, _ev, _unavailable

KIND = "security_review"
REVIEW_LOOKBACK_DAYS = 365  # a request older than a year without any change is not a queue item


@dataclass
class _Wait:
    since: datetime
    requester: str | None
    signals: list[Signal] = field(default_factory=list)


def pending(rows: Sequence[Signal]) -> dict[tuple[str, Any], dict[str, _Wait]]:
    """(repository, number) -> via -> the open wait, replaying the transitions in time order."""
    out: dict[tuple[str, Any], dict[str, _Wait]] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        a = s.attributes
        pr = (str(a.get("repository") or s.entity), a.get("number"))
        waits = out.setdefault(pr, {})
        via, transition = str(a.get("via")), a.get("transition")
        if transition == "requested":
            if via in waits:
                waits[via].signals.append(s)
            else:
                waits[via] = _Wait(s.occurred_at, a.get("requester"), [s])
        elif transition == "reviewed":  # approvals answer the team requests GitHub no longer lists
            still = set(a.get("still_requested") or [])
            for v in [v for v in waits if v.startswith("team:") and v not in still]:
                del waits[v]
        elif transition == "cleared":
            if a.get("reason") == "pull request closed":
                waits.clear()
            else:
                waits.pop(via, None)
    return {pr: w for pr, w in out.items() if w}


def _age(days: float) -> str:
    return f"{days * 24:.0f} h" if days < 1 else f"{days:.0f} d"


def reviews_entry(rows: Sequence[Signal], now: datetime) -> dict[str, Any]:
    recent = [s for s in rows if s.occurred_at >= now - timedelta(days=REVIEW_LOOKBACK_DAYS)]
    if not recent:
        return _unavailable("no GitHub security review requests ingested")
    items: list[dict[str, Any]] = []
    for (repo, number), waits in pending(recent).items():
        first = min(waits.values(), key=lambda w: w.since)
        age_days = (now - first.since).total_seconds() / 86400
        latest = max((s for w in waits.values() for s in w.signals), key=lambda s: s.occurred_at)
        a = latest.attributes
        vias = sorted(v.split(":", 1)[1] for v in waits)
        items.append(
            {
                "id": f"{repo}#{number}",
                "title": f"{repo}#{number}: {a.get('title') or 'pull request'}",
                "href": a.get("url"),
                "requested_at": first.since.isoformat(),
                "age_days": round(age_days, 2),
                "value": round(age_days, 2),
                "display": _age(age_days),
                "requester": first.requester,
                "author": a.get("author"),
                "via": vias,
                "status": verdict.pending_review(age_days),
                "detail": f"waiting {_age(age_days)} · requested by {first.requester or 'unknown'}"
                f" · {', '.join(vias)}",
                "evidence": _ev(KIND, [s for w in waits.values() for s in w.signals], REVIEW_LOOKBACK_DAYS),
            }
        )
    items.sort(key=lambda i: -i["age_days"])
    oldest = items[0]["display"] if items else None
    return {
        "available": True,
        "pending": len(items),
        "items": items[:MAX_ROWS],
        "summary": f"{len(items)} pull request(s) waiting for a security review"
        + (f", oldest {oldest}" if oldest else ""),
        "evidence": _ev(KIND, recent, REVIEW_LOOKBACK_DAYS),
    }
