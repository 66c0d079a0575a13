"""Built-in KPI formulas: fold signals into daily buckets, then turn one window of buckets into a value.

The source step reads a contract's signals once and folds them into per-day buckets — counters
(summed) and small sample lists (concatenated) — small enough for a state machine payload. A
formula's `value` turns the buckets of one window into a value, or None with the reason.

Signal attributes each formula reads are listed in its docstring (the ingestion plug-ins of
companyos.sources produce them); a signal missing a required attribute is not counted.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from companyos.model import dora

Counter = float | list[float]
Buckets = Mapping[str, Mapping[str, Counter]]  # "yyyy-mm-dd" -> counters / samples
Params = Mapping[str, Any]
MAX_SAMPLES_PER_DAY = 200  # caps a day's sample list (payload size); counters are exact


@dataclass(frozen=True)
class SignalRow:
    """The part of a stored signal a formula reads."""

    kind: str
    signal_id: str
    occurred_at: datetime
    attributes: Mapping[str, Any]
    entity: str | None = None
    service: str | None = None  # the catalog's service (rows builders group by it: runs/rows.py)
    source: str | None = None
    delivery_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    value: float | None
    reason: str | None = None


Folded = Iterable[tuple[date, dict[str, Counter]]]
FoldFn = Callable[[Mapping[str, Sequence[SignalRow]], Params], Folded]
ValueFn = Callable[[Buckets, date, int], Outcome]


class TransientError(Exception):
    """A retryable failure (the state machine retries it with backoff and jitter)."""


@dataclass(frozen=True)
class Builtin:
    fold: FoldFn
    value: ValueFn


def accumulate(items: Folded) -> tuple[dict[str, dict[str, Counter]], int]:
    """Sum counters and concatenate samples per day; returns (buckets, contributing rows)."""
    daily: dict[str, dict[str, Counter]] = {}
    rows = 0
    for day, counters in items:
        rows += 1
        bucket = daily.setdefault(day.isoformat(), {})
        for key, val in counters.items():
            if isinstance(val, list):
                cur = bucket.setdefault(key, [])
                assert isinstance(cur, list)
                cur.extend(val[: max(0, MAX_SAMPLES_PER_DAY - len(cur))])
            else:
                old = bucket.get(key, 0.0)
                bucket[key] = (old if isinstance(old, float | int) else 0.0) + float(val)
    return daily, rows


# ------------------------------------------------------------------ window helpers


def _days(end: date, days: int) -> Iterable[str]:
    return ((end - timedelta(days=i)).isoformat() for i in range(days))


def window_sum(buckets: Buckets, end: date, days: int, counter: str) -> float:
    total = 0.0
    for day in _days(end, days):
        val = buckets.get(day, {}).get(counter, 0.0)
        total += val if isinstance(val, float | int) else 0.0
    return total


def window_samples(buckets: Buckets, end: date, days: int, key: str) -> list[float]:
    out: list[float] = []
    for day in _days(end, days):
        val = buckets.get(day, {}).get(key)
        if isinstance(val, list):
            out.extend(val)
    return out


def _parse_time(raw: Any) -> datetime | None:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


parse_time = _parse_time  # public: rows builders read finding times the same way


def _first(attrs: Mapping[str, Any], *names: str) -> Any:
    return next((attrs[n] for n in names if attrs.get(n) not in (None, "")), None)


# ------------------------------------------------------------------ deployments (DORA)


def _is_env(attrs: Mapping[str, Any], params: Params) -> bool:
    envs = params.get("environments")
    return not envs or str(attrs.get("environment", "")).lower() in envs


def fold_deployments(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`deployment`: environment, succeeded (bool). Counts final deploys to the contract's environments."""
    for s in signals.get("deployment", ()):
        if _is_env(s.attributes, params) and "succeeded" in s.attributes:
            yield s.occurred_at.date(), {"total": 1.0, "failed": 0.0 if s.attributes["succeeded"] else 1.0}


def deployment_frequency(buckets: Buckets, end: date, days: int) -> Outcome:
    """Deploys per day over the window (kpi-health-model.md: Deployment Frequency)."""
    return Outcome(window_sum(buckets, end, days, "total") / days)


def change_failure_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    """Failed deploys / total deploys over the window (DORA team-level definition in the seed)."""
    total = int(window_sum(buckets, end, days, "total"))
    failed = int(window_sum(buckets, end, days, "failed"))
    value = dora.change_failure_rate(total, failed)
    return Outcome(value, None if value is not None else f"no production deployments in the last {days} days")


def fold_lead_times(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Commit → production deploy, in hours, per commit, on the day of the deploy.

    `commit`: sha, timestamp (else the signal time), optional head_sha (the push's head, so the
    commits of a push are linked to the deploy of its head). `deployment`: sha, environment,
    succeeded. Only the first successful production deploy of a sha counts."""
    commit_times: dict[str, list[datetime]] = defaultdict(list)
    for s in signals.get("commit", ()):
        at = _parse_time(_first(s.attributes, "timestamp", "committed_at")) or s.occurred_at
        for key in {s.attributes.get("sha"), s.attributes.get("head_sha")} - {None, ""}:
            commit_times[str(key)].append(at)
    seen: set[str] = set()
    deploys = sorted(signals.get("deployment", ()), key=lambda s: s.occurred_at)
    for d in deploys:
        sha = str(d.attributes.get("sha") or "")
        if not sha or sha in seen or not d.attributes.get("succeeded") or not _is_env(d.attributes, params):
            continue
        seen.add(sha)
        hours = [(d.occurred_at - c).total_seconds() / 3600 for c in set(commit_times.get(sha, ()))]
        hours = [h for h in hours if h >= 0]
        if hours:
            yield d.occurred_at.date(), {"lead_h": hours, "deploys": 1.0}


def lead_time_for_changes(buckets: Buckets, end: date, days: int) -> Outcome:
    """Median commit → production time in hours (DORA)."""
    samples = window_samples(buckets, end, days, "lead_h")
    if not samples:
        return Outcome(None, f"no production deploy with known commits in the last {days} days")
    return Outcome(float(statistics.median(samples)))


# ------------------------------------------------------------------ builds


FAILED_BUILDS = {"failure", "timed_out", "startup_failure", "error", "failed"}


def fold_builds(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`build`: succeeded (True / False / None for cancelled, skipped, neutral), else conclusion."""
    for s in signals.get("build", ()):
        ok = s.attributes.get("succeeded")
        if ok is None and "succeeded" not in s.attributes:
            conclusion = str(s.attributes.get("conclusion") or "").lower()
            ok = True if conclusion == "success" else (False if conclusion in FAILED_BUILDS else None)
        if ok is not None:
            yield s.occurred_at.date(), {"builds": 1.0, "passed": 1.0 if ok else 0.0}


def build_success_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    total = window_sum(buckets, end, days, "builds")
    if not total:
        return Outcome(None, f"no completed builds in the last {days} days")
    return Outcome(100.0 * window_sum(buckets, end, days, "passed") / total)


# ------------------------------------------------------------------ incidents


@dataclass
class _Incident:
    triggered: datetime | None = None
    resolved: datetime | None = None
    priority: str | None = None
    priority_at: datetime | None = None


def incidents_of(rows: Sequence[SignalRow]) -> dict[str, _Incident]:
    """Fold incident events into incidents. `incident`: incident_id, transition (triggered /
    acknowledged / resolved / priority_updated; else status or event_type `incident.<status>`),
    priority, occurred_at (the event time, else the signal time), incident_created_at if known."""
    out: dict[str, _Incident] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        iid = _first(s.attributes, "incident_id", "id")
        if iid is None:
            continue
        at = _parse_time(s.attributes.get("occurred_at")) or s.occurred_at
        status = str(_first(s.attributes, "transition", "status", "event_type") or "").lower()
        status = status.removeprefix("incident.")
        inc = out.setdefault(str(iid), _Incident())
        created = _parse_time(s.attributes.get("incident_created_at"))
        if status == "triggered" or inc.triggered is None or created:
            inc.triggered = min(t for t in (inc.triggered, created or at) if t is not None)
        if status == "resolved":
            inc.resolved = max(filter(None, (inc.resolved, at)))
        priority = s.attributes.get("priority")
        if isinstance(priority, Mapping):
            priority = priority.get("summary") or priority.get("name")
        if priority and (inc.priority_at is None or at >= inc.priority_at):
            inc.priority, inc.priority_at = str(priority), at
    return out


def fold_restore_times(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Minutes from first trigger to resolution, per resolved incident, on the day it was resolved."""
    for inc in incidents_of(signals.get("incident", ())).values():
        if inc.triggered and inc.resolved and inc.resolved >= inc.triggered:
            minutes = (inc.resolved - inc.triggered).total_seconds() / 60
            yield inc.resolved.date(), {"restore_min": [minutes], "resolved": 1.0}


def mttr(buckets: Buckets, end: date, days: int) -> Outcome:
    samples = window_samples(buckets, end, days, "restore_min")
    value = dora.time_to_restore_minutes(samples)
    return Outcome(value, None if value is not None else f"no incident resolved in the last {days} days")


def fold_p1_incidents(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Incidents whose latest priority is one of params.priorities (default P1), on the trigger day."""
    wanted = {str(p).lower() for p in params.get("priorities", ["P1"])}
    for inc in incidents_of(signals.get("incident", ())).values():
        if inc.triggered is None:
            continue
        is_p1 = (inc.priority or "").lower() in wanted
        yield inc.triggered.date(), {"incidents": 1.0, "p1": 1.0 if is_p1 else 0.0}


def p1_incident_count(buckets: Buckets, end: date, days: int) -> Outcome:
    """P1 incidents per month (30 days), from the window's count."""
    return Outcome(window_sum(buckets, end, days, "p1") * 30.0 / days)


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
        vid = _first(s.attributes, "vuln_id", "id", "cve")
        if vid is None:
            continue
        first = _parse_time(s.attributes.get("first_seen")) or s.occurred_at
        fixed = _parse_time(s.attributes.get("fixed_at"))
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
        key = str(_first(s.attributes, "fingerprint", "finding_id") or s.signal_id)
        first_seen[key] = min(first_seen.get(key, s.occurred_at), s.occurred_at)
    for at in first_seen.values():
        yield at.date(), {"findings": 1.0}


def secret_scan_violations(buckets: Buckets, end: date, days: int) -> Outcome:
    return Outcome(window_sum(buckets, end, days, "findings"))


def fold_authz(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`authz_decision`: allowed (bool) or result allow/deny."""
    for s in signals.get("authz_decision", ()):
        allowed = s.attributes.get("allowed")
        if allowed is None and "result" in s.attributes:
            allowed = str(s.attributes["result"]).lower() in ("allow", "allowed", "true")
        if allowed is None:
            continue
        yield s.occurred_at.date(), {"decisions": 1.0, "denied": 0.0 if allowed else 1.0}


def failed_auth_attempts(buckets: Buckets, end: date, days: int) -> Outcome:
    """Denied authorisation decisions per hour over the window."""
    return Outcome(window_sum(buckets, end, days, "denied") / (days * 24))


# ------------------------------------------------------------------ product and financials


def fold_nps(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`nps_response`: score 0-10."""
    for s in signals.get("nps_response", ()):
        try:
            score = float(s.attributes["score"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= score <= 10:
            yield (
                s.occurred_at.date(),
                {"responses": 1.0, "promoters": float(score >= 9), "detractors": float(score <= 6)},
            )


def nps_score(buckets: Buckets, end: date, days: int) -> Outcome:
    """% promoters - % detractors over the window's responses."""
    n = window_sum(buckets, end, days, "responses")
    if not n:
        return Outcome(None, f"no NPS responses in the last {days} days")
    promoters = window_sum(buckets, end, days, "promoters")
    detractors = window_sum(buckets, end, days, "detractors")
    return Outcome(100.0 * (promoters - detractors) / n)


# ------------------------------------------------------------------ registry


BUILTINS: dict[str, Builtin] = {
    "deployment_frequency": Builtin(fold_deployments, deployment_frequency),
    "change_failure_rate": Builtin(fold_deployments, change_failure_rate),
    "lead_time_for_changes": Builtin(fold_lead_times, lead_time_for_changes),
    "build_success_rate": Builtin(fold_builds, build_success_rate),
    "mttr": Builtin(fold_restore_times, mttr),
    "p1_incident_count": Builtin(fold_p1_incidents, p1_incident_count),
    "critical_cve_age": Builtin(fold_critical_vulns, critical_cve_age),
    "vuln_sla_compliance": Builtin(fold_vuln_sla, vuln_sla_compliance),
    "secret_scan_violations": Builtin(fold_secret_findings, secret_scan_violations),
    "failed_auth_attempts": Builtin(fold_authz, failed_auth_attempts),
    "nps_score": Builtin(fold_nps, nps_score),
    # net_revenue_retention, arr_growth_rate: formulas_billing.py
}


def register(name: str, builtin: Builtin) -> None:
    """Add (or replace) a built-in formula, e.g. a plug-in KPI or a test double."""
    BUILTINS[name] = builtin


# ------------------------------------------------------------------ SQL (lake) formulas


def fold_rows(rows: Sequence[Mapping[str, Any]]) -> Folded:
    """Rows of a lake query (a `day` column plus numeric columns) → daily counters."""
    for row in rows:
        raw_day = row.get("day")
        if raw_day is None:
            continue
        day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
        if isinstance(day, datetime):
            day = day.date()
        yield (
            day,
            {
                k: float(v)
                for k, v in row.items()
                if k != "day" and isinstance(v, int | float | Decimal) and not isinstance(v, bool)
            },
        )


def aggregate(buckets: Buckets, end: date, days: int, how: str, column: str, num: str | None,
              den: str | None, scale: float) -> Outcome:  # fmt: skip
    """The window value of a SQL KPI from its daily rows."""
    present = [d for d in _days(end, days) if d in buckets]
    if not present:
        return Outcome(None, f"the query returned no rows for the last {days} days")
    if how == "ratio":
        d = window_sum(buckets, end, days, den or "")
        if not d:
            return Outcome(None, f"denominator '{den}' is 0 over the last {days} days")
        return Outcome(scale * window_sum(buckets, end, days, num or "") / d)
    if how == "last":
        val = buckets[max(present)].get(column)
        return Outcome(scale * float(val) if isinstance(val, float | int) else None)
    total = window_sum(buckets, end, days, column)
    if how == "per_day":
        return Outcome(scale * total / days)
    if how == "mean":
        return Outcome(scale * total / len(present))
    return Outcome(scale * total)


# ------------------------------------------------------------------ formula modules per source family


def _load_formula_modules() -> None:
    """Every `companyos/runs/formulas_<family>.py` registers its built-ins (`register`) on import,
    like every `runs/packs/*.yaml` is a contract pack: a source family adds a file, not an edit
    here. Loaded last, so those modules can use everything above."""
    import importlib
    import pkgutil

    from companyos import runs

    for module in sorted(m.name for m in pkgutil.iter_modules(runs.__path__)):
        if module.startswith("formulas_"):
            importlib.import_module(f"companyos.runs.{module}")


_load_formula_modules()
