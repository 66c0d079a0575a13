"""Built-in KPI formulas: fold signals into daily buckets, then turn one window of buckets into a value.

The source step reads a contract's signals once and folds them into per-day buckets — counters
(summed) and small sample lists (concatenated) — small enough for a state machine payload. A
formula's `value` turns the buckets of one window into a value, or None with the reason.

Signal attributes each formula reads are listed in its docstring (the ingestion plug-ins of
companyos.sources produce them); a signal missing a required attribute is not counted.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from companyos.domain import dora

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
    detail: Mapping[str, Any] | None = None  # delivered beside the value (counts, evidence)


Folded = Iterable[tuple[date, dict[str, Counter]]]
FoldFn = Callable[[Mapping[str, Sequence[SignalRow]], Params], Folded]
ValueFn = Callable[[Buckets, date, int], Outcome]


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
#
# A deployment is a successful production deployment: the statuses of one deployment id (else one
# signal) to the contract's environments, counted when one of them succeeded, at its latest
# successful status (DevLake counts one deployment per cicd_deployment_id at its last finish).


def _is_env(attrs: Mapping[str, Any], params: Params) -> bool:
    envs = params.get("environments")
    return not envs or str(attrs.get("environment", "")).lower() in envs


@dataclass(frozen=True)
class Deployment:
    """One successful production deployment."""

    id: str
    at: datetime
    service: str | None
    repository: str | None
    shas: frozenset[str]
    ref: str | None
    remediation: str | None  # "rollback" / "hotfix" when the deployment says it remediates
    shipped: tuple[tuple[str, datetime], ...] = ()  # (sha, time) of each successful status

    def live_before(self, t: datetime) -> datetime | None:
        """The latest successful status before `t` (a multi-repo deployment is partly live from
        its first repo on, as DevLake links incidents by deployment commit), None if none."""
        return max((at for _, at in self.shipped if at < t), default=None)

    def shipped_at(self, shas: set[str]) -> datetime:
        """When the first of these shas went out with this deployment (else the deployment's time)."""
        return min((at for sha, at in self.shipped if sha in shas), default=self.at)


REMEDIATION_REFS = {"hotfix": ("hotfix/", "hotfix-"), "rollback": ("rollback/", "rollback-", "revert-")}


def _remediation(attrs: Mapping[str, Any], params: Params) -> str | None:
    """`remediation` (rollback / hotfix), `rollback: true`, a task naming it, else the ref's prefix."""
    named = str(attrs.get("remediation") or "").lower()
    if named in REMEDIATION_REFS:
        return named
    if attrs.get("rollback") is True or "rollback" in str(attrs.get("task") or "").lower():
        return "rollback"
    ref = str(attrs.get("ref") or "").lower()
    prefixes = {**REMEDIATION_REFS, **params.get("remediation_refs", {})}
    return next((kind for kind, pre in prefixes.items() if ref.startswith(tuple(pre))), None)


def _service_of(s: SignalRow) -> str | None:
    return s.service or s.attributes.get("service") or None


def production_deployments(rows: Sequence[SignalRow], params: Params) -> list[Deployment]:
    """`deployment`: deployment_id, environment, succeeded, sha, ref, repository; the signal's
    catalog service. Successful production deployments, oldest first."""
    groups: dict[str, list[SignalRow]] = defaultdict(list)
    for s in rows:
        if _is_env(s.attributes, params) and s.attributes.get("succeeded") is True:
            groups[str(_first(s.attributes, "deployment_id") or s.signal_id)].append(s)
    out = []
    for dep_id, ok in groups.items():
        last = max(ok, key=lambda r: r.occurred_at)
        shas = frozenset(str(r.attributes["sha"]) for r in ok if r.attributes.get("sha"))
        out.append(
            Deployment(
                dep_id,
                last.occurred_at,
                next((v for r in ok if (v := _service_of(r))), None),
                last.attributes.get("repository") or last.entity,
                shas,
                last.attributes.get("ref"),
                next((v for r in ok if (v := _remediation(r.attributes, params))), None),
                tuple(sorted((str(r.attributes.get("sha") or ""), r.occurred_at) for r in ok)),
            )
        )
    return sorted(out, key=lambda d: (d.at, d.id))


def fold_deployments(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Successful production deployments per day (`production_deployments`)."""
    for d in production_deployments(signals.get("deployment", ()), params):
        yield d.at.date(), {"deploys": 1.0}


def deployment_frequency(buckets: Buckets, end: date, days: int) -> Outcome:
    """Successful production deployments per day over the window, with the median deployment days
    per week / month beside it (the level reads them: dora.deployment_frequency_level)."""
    deploys = window_sum(buckets, end, days, "deploys")
    deploy_days = [date.fromisoformat(d) for d in _days(end, days) if buckets.get(d, {}).get("deploys")]
    per_week, per_month = dora.deployment_days_medians(deploy_days, end, days)
    detail = {
        "deployments": int(deploys),
        "deployment_days": len(deploy_days),
        "median_deployment_days_per_week": per_week,
        "median_deployment_days_per_month": per_month,
    }
    return Outcome(deploys / days, detail=detail)


# ------------------------------------------------------------------ incident <-> deployment links


@dataclass(frozen=True)
class Link:
    """A failed change: a deployment, and the incident (or remediating deployment) it caused."""

    deployment_id: str
    deployed_at: datetime
    service: str | None
    cause: str  # "incident" or the remediation ("rollback" / "hotfix")
    by: str  # the incident id, or the remediating deployment's id
    at: datetime  # when the incident started / the remediation was deployed
    how: str  # "explicit" (the incident names it), "service" (last deploy before it), "rollback", "hotfix"

    def key(self) -> str:
        return "link:" + json.dumps(
            [self.deployment_id, self.deployed_at.isoformat(), self.service, self.cause, self.by,
             self.at.isoformat(), self.how]
        )  # fmt: skip

    @classmethod
    def from_key(cls, key: str) -> Link:
        dep, deployed, service, cause, by, at, how = json.loads(key.removeprefix("link:"))
        return cls(dep, datetime.fromisoformat(deployed), service, cause, by, datetime.fromisoformat(at), how)


EXPLICIT_DEPLOYMENT = ("deployment_id", "caused_by_deployment")
EXPLICIT_SHA = ("commit_sha", "deployed_sha", "sha")


def link_incidents(
    deploys: Sequence[Deployment], incident_rows: Sequence[SignalRow], params: Params
) -> list[Link]:
    """Each incident's causing deployment: the one it names (an incident attribute deployment_id /
    caused_by_deployment, else a commit sha the deployment shipped), else the last successful
    production deployment of its catalog service that finished before the incident started
    (DevLake's connect_incident_to_deployment). `params.link_scope: tenant` links to the tenant's
    last deployment whatever its service (a tenant without a service catalog)."""
    by_id = {d.id: d for d in deploys}
    tenant_wide = params.get("link_scope") == "tenant"
    services: dict[str, str] = {}
    named: dict[str, Mapping[str, Any]] = {}
    for s in incident_rows:
        iid = _first(s.attributes, "incident_id", "id")
        if iid is None:
            continue
        if (svc := _service_of(s)) is not None:
            services[str(iid)] = svc
        if any(s.attributes.get(k) for k in EXPLICIT_DEPLOYMENT + EXPLICIT_SHA):
            named[str(iid)] = s.attributes
    links = []
    for iid, inc in incidents_of(incident_rows).items():
        if inc.triggered is None:
            continue
        start = inc.triggered
        before = sorted(
            (d for d in deploys if d.live_before(start)), key=lambda d: (d.live_before(start), d.id)
        )
        found, how = _named_deployment(named.get(iid), by_id, before), "explicit"
        if found is None:
            svc = services.get(iid)
            mine = [d for d in before if tenant_wide or (svc is not None and d.service == svc)]
            found, how = (mine[-1] if mine else None), "service"
        if found is not None:
            links.append(Link(found.id, found.at, found.service, "incident", iid, inc.triggered, how))
    return links


def _named_deployment(
    attrs: Mapping[str, Any] | None, by_id: Mapping[str, Deployment], before: Sequence[Deployment]
) -> Deployment | None:
    if not attrs:
        return None
    dep_id = _first(attrs, *EXPLICIT_DEPLOYMENT)
    if dep_id is not None and str(dep_id) in by_id:
        return by_id[str(dep_id)]
    sha = _first(attrs, *EXPLICIT_SHA)
    shipped = [d for d in before if sha is not None and str(sha) in d.shas]
    return shipped[-1] if shipped else None


def remediated(deploys: Sequence[Deployment]) -> list[Link]:
    """Deployments remediated by a later one of the same service: a rollback or hotfix deployment
    (by its attributes or ref) marks the deployment before it as failed, and so does redeploying a
    sha that was live before the previous deployment (a rollback by sha)."""
    links = []
    by_service: dict[str | None, list[Deployment]] = defaultdict(list)
    for d in deploys:
        by_service[d.service or d.repository].append(d)
    for chain in by_service.values():
        for prev, cur in itertools.pairwise(chain):
            kind = cur.remediation
            earlier = chain[: chain.index(prev)]
            if (
                kind is None
                and cur.shas
                and not cur.shas & prev.shas
                and any(cur.shas & e.shas for e in earlier)
            ):
                kind = "rollback"
            if kind is not None:
                links.append(Link(prev.id, prev.at, prev.service, kind, cur.id, cur.at, kind))
    return links


def fold_change_failures(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Successful production deployments per day, the failed ones (linked to an incident:
    `link_incidents`, or remediated: `remediated`) and each link as evidence (a `link:` counter)."""
    deploys = production_deployments(signals.get("deployment", ()), params)
    links = link_incidents(deploys, signals.get("incident", ()), params) + remediated(deploys)
    per: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        per[link.deployment_id].append(link)
    for d in deploys:
        counters: dict[str, Counter] = {"deploys": 1.0, "failed_changes": 1.0 if per.get(d.id) else 0.0}
        counters.update({link.key(): 1.0 for link in per.get(d.id, ())})
        yield d.at.date(), counters


MAX_LINKS_DELIVERED = 50  # linked pairs a run delivers as evidence (newest first; the counts are exact)


def window_links(buckets: Buckets, end: date, days: int) -> list[Link]:
    """The deploy <-> incident / remediation links of the deployments in the window, newest first."""
    keys = {k for day in _days(end, days) for k in buckets.get(day, {}) if k.startswith("link:")}
    return sorted((Link.from_key(k) for k in keys), key=lambda lk: (lk.deployed_at, lk.at), reverse=True)


def change_failure_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    """Successful production deployments linked to an incident (or a rollback / hotfix) over the
    successful production deployments of the window, in percent; the linked pairs are its evidence."""
    total = int(window_sum(buckets, end, days, "deploys"))
    failed = int(window_sum(buckets, end, days, "failed_changes"))
    value = dora.change_failure_rate(total, failed)
    links = window_links(buckets, end, days)
    detail = {
        "deployments": total,
        "failed_deployments": failed,
        "links": [
            {
                "deployment_id": lk.deployment_id,
                "deployed_at": lk.deployed_at.isoformat(),
                "service": lk.service,
                "cause": lk.cause,
                "by": lk.by,
                "at": lk.at.isoformat(),
                "how": lk.how,
            }
            for lk in links[:MAX_LINKS_DELIVERED]
        ],
    }
    reason = None if value is not None else f"no successful production deployments in the last {days} days"
    return Outcome(value, reason, detail=detail)


# ------------------------------------------------------------------ lead time for changes


@dataclass(frozen=True)
class ChangeLeadTime:
    change: str  # "pr:<repository>#<number>" or "commit:<sha>"
    deployment_id: str
    deployed_at: datetime
    hours: float


def _pushed_heads(commits: Sequence[SignalRow]) -> dict[str, set[str]]:
    """sha -> itself and the heads of the pushes that carried it (a deploy of a push's head ships
    every commit of that push)."""
    heads: dict[str, set[str]] = defaultdict(set)
    for s in commits:
        sha = str(s.attributes.get("sha") or "")
        if sha:
            heads[sha].update(
                {sha, *([str(s.attributes["head_sha"])] if s.attributes.get("head_sha") else [])}
            )
    return heads


def _commit_time(s: SignalRow) -> datetime:
    return _parse_time(_first(s.attributes, "timestamp", "committed_at")) or s.occurred_at


def _first_commit(pr: Mapping[str, Any], repo: str, commits: Sequence[SignalRow]) -> datetime | None:
    """The earliest commit pushed to the pull request's head branch, else its head commit's time."""
    branch, head = pr.get("head_ref"), pr.get("head_sha")
    on_branch = [
        _commit_time(c)
        for c in commits
        if branch
        and c.attributes.get("branch") == branch
        and str(c.attributes.get("repository") or c.entity or "") == repo
    ]
    if not on_branch and head:
        on_branch = [_commit_time(c) for c in commits if c.attributes.get("sha") == head]
    return min(on_branch, default=None)


def change_lead_times(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> list[ChangeLeadTime]:
    """Lead time per change: a merged pull request (`change`: created_at, merged_at,
    merge_commit_sha, head_ref / head_sha, first_commit_at if the source knows it, repository) or,
    in a repository without pull requests, a commit (`commit`: sha, timestamp / committed_at,
    head_sha of its push, branch). A change is deployed by the first successful production
    deployment of its merge commit (or of the push that carried it); its first commit is
    first_commit_at, else the earliest commit pushed to its head branch, else its head commit."""
    commits = list(signals.get("commit", ()))
    heads = _pushed_heads(commits)
    deploys = production_deployments(signals.get("deployment", ()), params)

    def first_deploy(sha: str) -> tuple[Deployment, datetime] | None:
        """The first successful production deployment shipping `sha`, and when it shipped it."""
        shipped = heads.get(sha, {sha})
        found = [(d.shipped_at(shipped), d) for d in deploys if d.shas & shipped]
        return None if not found else min(((d, at) for at, d in found), key=lambda p: p[1])

    out: list[ChangeLeadTime] = []
    pr_repos: set[str] = set()
    for pr in signals.get("change", ()):
        a = pr.attributes
        repo = str(a.get("repository") or pr.entity or "")
        pr_repos.add(repo)
        merge_sha = str(a.get("merge_commit_sha") or "")
        found = first_deploy(merge_sha) if merge_sha else None
        if found is None:
            continue
        opened, merged = _parse_time(a.get("created_at")), _parse_time(a.get("merged_at")) or pr.occurred_at
        first = _parse_time(a.get("first_commit_at")) or _first_commit(a, repo, commits)
        dep, shipped_at = found
        hours = dora.change_lead_time_hours(first, opened, merged, shipped_at)
        if hours is not None:
            out.append(ChangeLeadTime(f"pr:{repo}#{a.get('number')}", dep.id, shipped_at, hours))
    seen: set[str] = set()
    for c in commits:
        sha = str(c.attributes.get("sha") or "")
        repo = str(c.attributes.get("repository") or c.entity or "")
        if not sha or sha in seen or repo in pr_repos:
            continue
        seen.add(sha)
        found = first_deploy(sha)
        if found is not None and found[1] >= _commit_time(c):
            hours = dora.change_lead_time_hours(_commit_time(c), None, None, found[1])
            out.append(ChangeLeadTime(f"commit:{sha}", found[0].id, found[1], hours or 0.0))
    return out


def fold_lead_times(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Lead time in hours per change (`change_lead_times`), on the day of its production deploy."""
    for lt in change_lead_times(signals, params):
        yield lt.deployed_at.date(), {"lead_h": [lt.hours], "changes": 1.0}


def lead_time_for_changes(buckets: Buckets, end: date, days: int) -> Outcome:
    """Median lead time of the changes deployed to production in the window, in hours (DORA)."""
    samples = window_samples(buckets, end, days, "lead_h")
    if not samples:
        return Outcome(None, f"no change deployed to production in the last {days} days")
    return Outcome(float(statistics.median(samples)), detail={"changes": len(samples)})


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
    "change_failure_rate": Builtin(fold_change_failures, change_failure_rate),
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
