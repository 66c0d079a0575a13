"""DORA formulas over delivery signals: deployment frequency, change failure rate (incident and
remediation links), lead time for changes, and build success rate.

Signal attributes each formula reads are listed in its docstring (the ingestion plug-ins of
companyos.sources produce them); a signal missing a required attribute is not counted.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from companyos.domain import dora
from companyos.runs.formula_base import (
    Buckets,
    Counter,
    Folded,
    Outcome,
    Params,
    SignalRow,
    first_of,
    parse_time,
    window_days,
    window_samples,
    window_sum,
)
from companyos.runs.incident_formulas import incidents_of

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
            groups[str(first_of(s.attributes, "deployment_id") or s.signal_id)].append(s)
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
    deploy_days = [date.fromisoformat(d) for d in window_days(end, days) if buckets.get(d, {}).get("deploys")]
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
        iid = first_of(s.attributes, "incident_id", "id")
        if iid is None:
            continue
        if (svc := _service_of(s)) is not None:
            services[str(iid)] = svc
        if any(s.attributes.get(k) for k in EXPLICIT_DEPLOYMENT + EXPLICIT_SHA):
            named[str(iid)] = s.attributes
    links = []
    for iid, inc in incidents_of(incident_rows).items():
        start = inc.triggered or inc.first_seen  # an unknown start: its first event bounds it
        if start is None:
            continue
        before = sorted(
            (d for d in deploys if d.live_before(start)), key=lambda d: (d.live_before(start), d.id)
        )
        found, how = _named_deployment(named.get(iid), by_id, before), "explicit"
        if found is None:
            svc = services.get(iid)
            mine = [d for d in before if tenant_wide or (svc is not None and d.service == svc)]
            found, how = (mine[-1] if mine else None), "service"
        if found is not None:
            links.append(Link(found.id, found.at, found.service, "incident", iid, start, how))
    return links


def _named_deployment(
    attrs: Mapping[str, Any] | None, by_id: Mapping[str, Deployment], before: Sequence[Deployment]
) -> Deployment | None:
    if not attrs:
        return None
    dep_id = first_of(attrs, *EXPLICIT_DEPLOYMENT)
    if dep_id is not None and str(dep_id) in by_id:
        return by_id[str(dep_id)]
    sha = first_of(attrs, *EXPLICIT_SHA)
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
    keys = {k for day in window_days(end, days) for k in buckets.get(day, {}) if k.startswith("link:")}
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
    return parse_time(first_of(s.attributes, "timestamp", "committed_at")) or s.occurred_at


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
        opened, merged = parse_time(a.get("created_at")), parse_time(a.get("merged_at")) or pr.occurred_at
        first = parse_time(a.get("first_commit_at")) or _first_commit(a, repo, commits)
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
