"""Rows of the security KPI runs: open vulnerabilities by severity (vuln_sla_compliance), secret
findings (secret_scan_violations), denied authorisation decisions and the threat detection tiles
(failed_auth_attempts, runs/rows_threats.py).
See runs/rows.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from companyos.domain import verdict
from companyos.runs.formulas import DEFAULT_VULN_SLA_DAYS, parse_time
from companyos.runs.rows import (
    MAX_ROWS,
    SECURITY_EVENTS_DAYS,
    SEVERITIES,
    RowsContext,
    Signal,
    Signals,
    _ev,
    _in,
    _parts,
    _unavailable,
    evidence_of,
    register,
    window_start,
)
from companyos.runs.rows_threats import threats_entry


def vuln_sla_days() -> dict[str, int]:
    return dict(DEFAULT_VULN_SLA_DAYS)


@dataclass(frozen=True)
class OpenFinding:
    """An open finding as the severity table reads it (a stored finding state, or a run's row)."""

    attributes: dict[str, Any]
    first_seen: datetime
    scanner: str
    changed_at: datetime


def open_findings_of(rows: Sequence[Signal]) -> list[OpenFinding]:
    """The open findings among a run's finding rows (`runs.sourcing.finding_rows`)."""
    out = []
    for r in rows:
        first = parse_time(r.attributes.get("first_seen"))
        if r.attributes.get("status") == "open" and first is not None:
            scanner = str(r.attributes.get("scanner") or r.source or "scanner")
            out.append(OpenFinding(dict(r.attributes), first, scanner, r.occurred_at))
    return out


def _vulns_entry(
    open_states: Sequence[Any], vuln_signals: Sequence[Signal], days: int, now: datetime
) -> dict[str, Any]:
    """Open findings by severity (current state), their age against the SLA, new in the period
    (signals with an opened/reopened transition)."""
    opened = [
        s for s in _in(vuln_signals, window_start(now, days))
        if s.attributes.get("transition") in ("opened", "reopened")
    ]  # fmt: skip
    if not open_states and not vuln_signals:
        return _unavailable("no vulnerability scan reports (Trivy/Snyk) ingested")
    sla = vuln_sla_days()
    items: list[dict[str, Any]] = []
    total_open = total_overdue = 0
    for sev in SEVERITIES:
        states = [st for st in open_states if str(st.attributes.get("severity", "low")) == sev]
        ages = [(now - st.first_seen).total_seconds() / 86400 for st in states]
        overdue = sum(1 for a in ages if a > sla[sev])
        near = sum(1 for a in ages if 0.75 * sla[sev] < a <= sla[sev])
        new = [s for s in opened if s.attributes.get("severity") == sev]
        status = verdict.open_findings(sev, len(states), overdue, near)
        scanners = sorted({st.scanner for st in states})
        latest = max((st.changed_at for st in states), default=None)
        parts = [
            (f"{sc}.vulnerability", sum(1 for st in states if st.scanner == sc), latest) for sc in scanners
        ]
        parts += [(f"{obj} (new)", n, at) for obj, n, at in _parts("vulnerability", new)]
        oldest = max(ages, default=None)
        total_open += len(states)
        total_overdue += overdue
        items.append(
            {
                "id": sev,
                "cells": {
                    "severity": sev.capitalize(),
                    "open": str(len(states)),
                    "new": str(len(new)),
                    "oldest_days": "—" if oldest is None else f"{oldest:.0f} d",
                    "sla": f"{sla[sev]} d",
                    "overdue": str(overdue),
                },
                "severity": sev,
                "value": len(states),
                "open": len(states),
                "new_in_period": len(new),
                "oldest_age_days": None if oldest is None else round(oldest, 1),
                "sla_days": sla[sev],
                "overdue": overdue,
                "sla_status": "breached" if overdue else ("due_soon" if near else "within"),
                "status": status,
                "reason": f"{overdue} open past the {sla[sev]}-day SLA" if overdue else None,
                "evidence": evidence_of(parts or [("finding_state.vulnerability", 0, None)], None),
            }
        )
    return {
        "available": True,
        "window_days": days,
        "sla_days": sla,
        "columns": [
            {"key": "severity", "label": "Severity"},
            {"key": "open", "label": "Open", "numeric": True},
            {"key": "new", "label": f"New ({days}d)", "numeric": True},
            {"key": "oldest_days", "label": "Oldest", "numeric": True},
            {"key": "sla", "label": "SLA", "numeric": True},
            {"key": "overdue", "label": "Past SLA", "numeric": True},
        ],
        "items": items,
        "summary": f"{total_open} open vulnerabilities, {total_overdue} past their SLA",
        "evidence": _ev("vulnerability", vuln_signals, None),
    }


# ---------------------------------------------------------------- security events


def _secret_items(secret_signals: Sequence[Signal], since: datetime) -> list[dict[str, Any]]:
    """One row per secret (scanner, scope, fingerprint) with a transition since `since`: its latest
    state, open or fixed (a secret found and later removed is one row, Fixed, not two)."""
    latest: dict[tuple[str, str, str], Signal] = {}
    for s in sorted(_in(secret_signals, since), key=lambda r: r.occurred_at):
        a = s.attributes
        if a.get("transition", "opened") in ("opened", "reopened", "fixed"):
            key = (
                str(a.get("scanner")),
                str(a.get("scope") or s.entity),
                str(a.get("fingerprint") or s.signal_id),
            )
            latest[key] = s
    items = []
    for s in latest.values():
        a = s.attributes
        fixed = a.get("transition") == "fixed"
        items.append(
            {
                "id": s.signal_id,
                "at": s.occurred_at.isoformat(),
                "title": f"Secret {'removed' if fixed else 'detected'}: {a.get('rule') or 'secret'}"
                f" in {a.get('scope') or s.entity or 'an unnamed scope'}",
                "severity": "High",
                "state": "fixed" if fixed else "open",
                "status": verdict.secret(not fixed),
                "service": s.service,
                "detail": " · ".join(str(p) for p in (a.get("file"), a.get("scanner")) if p),
                "evidence": _ev("secret_finding", [s], SECURITY_EVENTS_DAYS),
            }
        )
    return items


def _denies(authz_signals: Sequence[Signal], since: datetime) -> list[Signal]:
    return [
        s for s in _in(authz_signals, since)
        if s.attributes.get("result") == "deny" or s.attributes.get("allowed") is False
    ]  # fmt: skip


def _deny_items(authz_signals: Sequence[Signal], since: datetime) -> list[dict[str, Any]]:
    """Denied authorisation decisions, one row per day, app and path."""
    groups: dict[tuple[str, str, str], list[Signal]] = {}
    for s in _denies(authz_signals, since):
        a = s.attributes
        key = (
            s.occurred_at.date().isoformat(),
            str(a.get("app") or s.entity or "app"),
            str(a.get("path") or "/"),
        )
        groups.setdefault(key, []).append(s)
    items = []
    for (day, app, path), rows in groups.items():
        items.append(
            {
                "id": f"deny:{day}:{app}:{path}",
                "at": max(r.occurred_at for r in rows).isoformat(),
                "title": f"{len(rows)} denied authorisation decision(s): {app} {path}",
                "severity": "Medium",
                "state": "denied",
                "status": verdict.denied_decisions(len(rows)),
                "service": rows[0].service,
                "detail": f"OPA decisions on {date.fromisoformat(day):%-d %b %Y}",  # 10 Jun 2026
                "count": len(rows),
                "evidence": _ev("authz_decision", rows, SECURITY_EVENTS_DAYS),
            }
        )
    return items


def security_events(
    items: list[dict[str, Any]], sources: list[tuple[str, int, datetime | None]]
) -> dict[str, Any]:
    """The CISO's "Security events (7d)" panel from secret and denied-decision rows."""
    days = SECURITY_EVENTS_DAYS
    items = sorted(items, key=lambda i: i["at"], reverse=True)
    open_secrets = sum(1 for i in items if i["state"] == "open")
    fixed = sum(1 for i in items if i["state"] == "fixed")
    denied = sum(int(i.get("count") or 0) for i in items if i["state"] == "denied")
    return {
        "available": True,
        "window_days": days,
        "secrets_detected": open_secrets,
        "secrets_fixed": fixed,
        "denied_decisions": denied,
        "items": items[:MAX_ROWS],
        "summary": f"{open_secrets} open secret(s), {fixed} fixed · {denied} denied authorisation decision(s)"
        f" in the last {days} days",
        "evidence": evidence_of(sources or [("gitleaks.secret_finding", 0, None)], days),
    }


def _security_events_entry(
    secret_signals: list[Signal], authz_signals: list[Signal], now: datetime
) -> dict[str, Any]:
    if not secret_signals and not authz_signals:
        return _unavailable("no secret-scan findings (Gitleaks/Trivy) or OPA decision logs ingested")
    since = window_start(now, SECURITY_EVENTS_DAYS)
    items = _secret_items(secret_signals, since) + _deny_items(authz_signals, since)
    secrets_ = _in(secret_signals, since)
    sources = _parts("secret_finding", secrets_) + _parts("authz_decision", _denies(authz_signals, since))
    return security_events(items, sources)


# ---------------------------------------------------------------- rows of the security runs


def _vuln_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    """The severity table from the run's finding rows: open states, and new = first seen in the period."""
    rows = list(signals.get("vulnerability", ()))
    since = window_start(ctx.as_of, days)
    opened = [
        _Opened(r.attributes, first)
        for r in rows
        if (first := parse_time(r.attributes.get("first_seen"))) is not None and first >= since
    ]
    return {"vulns": _vulns_entry(open_findings_of(rows), opened, days, ctx.as_of)}


@dataclass(frozen=True)
class _Opened:
    """A finding first seen in the period, read as an "opened" transition."""

    _attributes: dict[str, Any]
    occurred_at: datetime
    kind: str = "vulnerability"
    source: str | None = "finding_state"
    signal_id: str = ""
    entity: str | None = None
    service: str | None = None
    delivery_id: str | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        return {**self._attributes, "transition": "opened"}


def _secret_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    rows = list(signals.get("secret_finding", ()))
    since = window_start(ctx.as_of, SECURITY_EVENTS_DAYS)
    if not rows:
        return {"security_events": _unavailable("no secret-scan findings (Gitleaks/Trivy) ingested")}
    return {
        "security_events": security_events(
            _secret_items(rows, since), _parts("secret_finding", _in(rows, since))
        )
    }


def _deny_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    """Denied decisions for the security events panel; the threat detection tiles (rows_threats)."""
    rows = list(signals.get("authz_decision", ()))
    since = window_start(ctx.as_of, SECURITY_EVENTS_DAYS)
    threats = threats_entry(signals, ctx.as_of)
    if not rows:
        return {"security_events": _unavailable("no OPA decision logs ingested"), "threats": threats}
    return {
        "security_events": security_events(
            _deny_items(rows, since), _parts("authz_decision", _denies(rows, since))
        ),
        "threats": threats,
    }


register("vuln_sla_compliance", _vuln_rows)
register("secret_scan_violations", _secret_rows)
register("failed_auth_attempts", _deny_rows)
