"""Security formulas: critical vulnerability age, vulnerability SLA compliance, secret findings and
failed attempts to get in (denied authorisation decisions, failed sign-ins)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from companyos.runs.formula_base import (
    Buckets,
    Counter,
    Folded,
    Outcome,
    Params,
    SignalRow,
    first_of,
    parse_time,
    window_sum,
)

# ------------------------------------------------------------------ vulnerabilities, secrets, authz


@dataclass
class _Vuln:
    severity: str
    first_seen: datetime
    fixed_at: datetime | None


def vulns_of(rows: Sequence[SignalRow]) -> dict[str, _Vuln]:
    """Fold vulnerability observations: `vulnerability`: vuln_id (else id/cve), severity,
    first_seen (else the signal time), status (open/fixed) and fixed_at. The newest observation of a
    vulnerability decides whether it is fixed; its first sighting is the earliest."""
    out: dict[str, _Vuln] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        vid = first_of(s.attributes, "vuln_id", "id", "cve")
        if vid is None:
            continue
        first = parse_time(s.attributes.get("first_seen")) or s.occurred_at
        fixed = parse_time(s.attributes.get("fixed_at"))
        if fixed is None and str(s.attributes.get("status", "")).lower() == "fixed":
            fixed = s.occurred_at
        sev = str(s.attributes.get("severity") or "unknown").lower()
        cur = out.get(str(vid))
        if cur is None:
            out[str(vid)] = _Vuln(sev, first, fixed)
        else:
            cur.first_seen = min(cur.first_seen, first)
            cur.fixed_at = fixed  # the newest observation wins: a re-opened vulnerability is open again
            cur.severity = sev
    return out


def fold_critical_vulns(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    for v in vulns_of(signals.get("vulnerability", ())).values():
        counters: dict[str, Counter] = {"vulns": 1.0}
        if v.severity == "critical":
            counters["critical_fixed_on"] = [float(v.fixed_at.date().toordinal()) if v.fixed_at else -1.0]
        yield v.first_seen.date(), counters


def critical_cve_age(buckets: Buckets, end: date, days: int) -> Outcome:
    """Days since the oldest critical vulnerability still unpatched at the end of the window (0: none)."""
    oldest = 0
    for day, counters in buckets.items():
        first = date.fromisoformat(day)
        fixes = counters.get("critical_fixed_on")
        if first > end or not isinstance(fixes, list):
            continue
        if any(f < 0 or f > end.toordinal() for f in fixes):
            oldest = max(oldest, (end - first).days)
    return Outcome(float(oldest))


DEFAULT_VULN_SLA_DAYS = {"critical": 7, "high": 30, "medium": 90, "low": 180}


def fold_vuln_sla(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Each vulnerability comes due `sla_days[severity]` after first seen; met if fixed by then."""
    sla = {**DEFAULT_VULN_SLA_DAYS, **params.get("sla_days", {})}
    for v in vulns_of(signals.get("vulnerability", ())).values():
        if v.severity not in sla:
            continue
        due = v.first_seen + timedelta(days=sla[v.severity])
        met = v.fixed_at is not None and v.fixed_at <= due
        yield due.date(), {"due": 1.0, "met": 1.0 if met else 0.0}


def vuln_sla_compliance(buckets: Buckets, end: date, days: int) -> Outcome:
    due = window_sum(buckets, end, days, "due")
    if not due:
        return Outcome(None, f"no vulnerability came due in the last {days} days")
    return Outcome(100.0 * window_sum(buckets, end, days, "met") / due)


def fold_secret_findings(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`secret_finding`: fingerprint (else finding_id / the signal id); counted once, when first seen."""
    first_seen: dict[str, datetime] = {}
    for s in signals.get("secret_finding", ()):
        key = str(first_of(s.attributes, "fingerprint", "finding_id") or s.signal_id)
        first_seen[key] = min(first_seen.get(key, s.occurred_at), s.occurred_at)
    for at in first_seen.values():
        yield at.date(), {"findings": 1.0}


def secret_scan_violations(buckets: Buckets, end: date, days: int) -> Outcome:
    return Outcome(window_sum(buckets, end, days, "findings"))


def fold_authz(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`authz_decision`: allowed (bool) or result allow/deny (OPA: a deny is a refused attempt);
    `auth_event`: failed (bool) — a failed sign-in from Okta, Auth0 or CloudTrail ConsoleLogin
    (sources/auth_logs.py). Both are failed attempts to get in."""
    for s in signals.get("authz_decision", ()):
        allowed = s.attributes.get("allowed")
        if allowed is None and "result" in s.attributes:
            allowed = str(s.attributes["result"]).lower() in ("allow", "allowed", "true")
        if allowed is None:
            continue
        yield s.occurred_at.date(), {"decisions": 1.0, "denied": 0.0 if allowed else 1.0}
    for s in signals.get("auth_event", ()):
        failed = s.attributes.get("failed")
        if isinstance(failed, bool):
            yield s.occurred_at.date(), {"sign_ins": 1.0, "failed_sign_ins": 1.0 if failed else 0.0}


def failed_auth_attempts(buckets: Buckets, end: date, days: int) -> Outcome:
    """Failed attempts per hour over the window: denied authorisation decisions (OPA) plus failed
    sign-ins (Okta, Auth0, AWS console)."""
    failed = window_sum(buckets, end, days, "denied") + window_sum(buckets, end, days, "failed_sign_ins")
    return Outcome(failed / (days * 24))
