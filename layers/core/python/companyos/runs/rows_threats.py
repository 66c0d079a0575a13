"""Rows of the failed_auth_attempts run: the CISO's "Threat detection (24h)" tiles — failed sign-ins
(Okta, Auth0, CloudTrail ConsoleLogin), requests a WAF rule blocked, and active GuardDuty findings
by severity, over the 24 hours to the run's as-of time. Each tile is judged by the domain's verdict
(domain/verdict.py) and carries the signals behind it; the score refresh adds the run.

A tile whose source never delivered anything is unavailable (Unknown with what it needs); a source
that delivered but saw nothing in the last 24 hours counts 0, with its newest record named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from companyos.domain import verdict
from companyos.runs.rows import SEVERITIES, Signal, Signals, _ev, _in, evidence_of

THREAT_HOURS = 24
NEEDS = {
    "auth_event": "sign-in logs (Okta event hook, Auth0 log stream or CloudTrail ConsoleLogin events)",
    "waf_request": "AWS WAF logs (Firehose HTTP endpoint delivery)",
    "threat_finding": "GuardDuty findings (EventBridge)",
}


def _top(values: Sequence[Any], n: int = 3) -> str:
    counts = Counter(str(v) for v in values if v)
    return ", ".join(f"{k} {c}" for k, c in counts.most_common(n))


def _newest(rows: Sequence[Signal]) -> str:
    at = max(s.occurred_at for s in rows)
    return f"newest record {at:%Y-%m-%d %H:%M} UTC"


def _tile(
    ident: str, name: str, value: int | None, status: verdict.Band, reason: str | None, ev: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": ident,
        "name": name,
        "unit": "count",
        "value": value,
        "display": "Unknown" if value is None else f"{value:,}",
        "status": verdict.Band.UNKNOWN if value is None else status,
        "reason": reason,
        "evidence": ev if value is not None else None,
    }


def _missing(ident: str, name: str, kind: str) -> dict[str, Any]:
    return _tile(ident, name, None, verdict.Band.UNKNOWN, f"no data: needs {NEEDS[kind]}", {})


def _sign_ins(rows: Sequence[Signal], since: datetime) -> dict[str, Any]:
    name = f"Failed sign-ins ({THREAT_HOURS}h)"
    if not rows:
        return _missing("failed_sign_ins", name, "auth_event")
    recent = _in(rows, since)
    failed = [s for s in recent if s.attributes.get("failed") is True]
    if failed:
        reason = f"{len(failed)} of {len(recent)} sign-ins failed · by source: " + _top(
            [s.attributes.get("provider") for s in failed]
        )
        users = _top([s.attributes.get("user") for s in failed], 2)
        reason += f" · most targeted: {users}" if users else ""
    else:
        reason = f"none of {len(recent)} sign-ins failed" if recent else f"no sign-ins; {_newest(rows)}"
    ev = _ev("auth_event", failed or recent, None)
    return _tile("failed_sign_ins", name, len(failed), verdict.failed_sign_ins(len(failed)), reason, ev)


def _blocked(rows: Sequence[Signal], since: datetime) -> dict[str, Any]:
    name = f"Blocked requests ({THREAT_HOURS}h)"
    if not rows:
        return _missing("blocked_requests", name, "waf_request")
    blocked = [s for s in _in(rows, since) if s.attributes.get("blocked") is True]
    if blocked:
        reason = "top rules: " + _top([s.attributes.get("rule") for s in blocked])
        countries = _top([s.attributes.get("country") for s in blocked])
        reason += f" · from {countries}" if countries else ""
    else:
        reason = f"no request blocked; {_newest(rows)}"
    ev = _ev("waf_request", blocked, None)
    return _tile("blocked_requests", name, len(blocked), verdict.blocked_requests(len(blocked)), reason, ev)


def active_findings(rows: Sequence[Signal], since: datetime) -> dict[str, Signal]:
    """Finding id -> its newest observation, for findings observed since `since` that are real
    (not GuardDuty sample findings) and not archived."""
    latest: dict[str, Signal] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        latest[str(s.attributes.get("finding_id") or s.signal_id)] = s
    return {
        k: s
        for k, s in latest.items()
        if s.occurred_at >= since and not s.attributes.get("sample") and not s.attributes.get("archived")
    }


def _findings(rows: Sequence[Signal], since: datetime) -> list[dict[str, Any]]:
    groups: list[tuple[str, tuple[str, ...], str]] = [
        ("critical_high", ("critical", "high"), "High/critical"),
        ("medium", ("medium",), "Medium"),
        ("low", ("low",), "Low"),
    ]
    if not rows:
        kind = "threat_finding"
        return [_missing(f"findings_{g}", f"{n} findings ({THREAT_HOURS}h)", kind) for g, _, n in groups]
    active = active_findings(rows, since)
    samples = sum(1 for s in _in(rows, since) if s.attributes.get("sample"))
    tiles = []
    for ident, sevs, label in groups:
        found = [s for s in active.values() if s.attributes.get("severity") in sevs]
        if found:
            reason = "types: " + _top([s.attributes.get("type") for s in found])
        else:
            reason = f"none; {_newest(rows)}"
        if samples and ident == "critical_high":
            reason += f" · {samples} sample finding(s) not counted"
        per = Counter(str(s.attributes.get("severity")) for s in found)
        status = verdict.worst(verdict.threat_findings(sv, per[sv]) for sv in sevs)
        name = f"{label} findings ({THREAT_HOURS}h)"
        ev = _ev("threat_finding", found, None)
        tiles.append(_tile(f"findings_{ident}", name, len(found), status, reason, ev))
    return tiles


def threats_entry(signals: Signals, as_of: datetime) -> dict[str, Any]:
    """The threat detection tiles over the 24 hours to `as_of`."""
    auth, waf, findings = (
        [s for s in signals.get(kind, ()) if s.occurred_at <= as_of]
        for kind in ("auth_event", "waf_request", "threat_finding")
    )
    if not auth and not waf and not findings:
        return {"available": False, "reason": "no data: needs " + "; ".join(NEEDS.values())}
    since = as_of - timedelta(hours=THREAT_HOURS)
    items = [_sign_ins(auth, since), _blocked(waf, since), *_findings(findings, since)]
    known = [i for i in items if i["value"] is not None]
    parts = [p for i in known for p in (i["evidence"] or {}).get("sources", [])]
    return {
        "available": True,
        "window_hours": THREAT_HOURS,
        "since": since.isoformat(),
        "as_of": as_of.isoformat(),
        "items": items,
        "severities": list(SEVERITIES),
        "summary": " · ".join(f"{i['name']}: {i['display']}" for i in known),
        "evidence": evidence_of([(p["object"], p["count"], _at(p["latest_at"])) for p in parts], None),
    }


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
