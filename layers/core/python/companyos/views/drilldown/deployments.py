"""Change correlation: production deployments with the incidents that followed them, and one
deployment with its status events and the commits that went out with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.repos import SignalStore
from companyos.domain.auth import Principal
from companyos.domain.errors import NotFound
from companyos.views import panels, panels_data
from companyos.views.drilldown.base import CORRELATION_WINDOW, authorized, unavailable
from companyos.views.drilldown.incidents import cfr_links


def changes(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    """Recent production deployments, each with the incidents on its service in the next 24 h."""
    now, days = authorized(principal, tenant_id, period)
    deps = [
        d
        for d in panels_data.deployment_rows(panels_data.signals(tenant_id, "deployment", days, now))
        if panels_data.is_production(d)
    ]
    if not deps:
        return {
            "tenant_id": tenant_id,
            "period": period,
            **unavailable(f"no production deployments ingested in the last {days} days"),
        }
    incs = panels_data.fold_incidents(panels_data.signals(tenant_id, "incident", days + 1, now))
    links, run_ev = cfr_links(tenant_id)
    caused: dict[str, list[dict[str, Any]]] = {}
    for lk in links:
        caused.setdefault(str(lk.get("deployment_id")), []).append(lk)
    items = []
    for d in deps[:100]:
        at = datetime.fromisoformat(d["at"])
        followed = [
            i["id"]
            for i in incs
            if i["service"]
            and i["service"] == d["service"]
            and i["triggered_at"]
            and at <= datetime.fromisoformat(i["triggered_at"]) <= at + CORRELATION_WINDOW
        ]
        items.append(
            {
                **d,
                "incidents_within_24h": followed,
                # what the change_failure_rate run counts as this deployment's failure (its evidence)
                "failed_change_links": caused.get(str(d["id"]), []),
                "drill": panels.drill("deployment", d["id"]),
            }
        )
    return {
        "tenant_id": tenant_id,
        "period": period,
        "available": True,
        "reason": None,
        "total": len(deps),
        "failed": sum(1 for d in deps if not d["succeeded"]),
        "incidents_correlated": bool(incs),
        "incidents_reason": None
        if incs
        else "no PagerDuty incident events ingested: nothing to correlate with",
        "links_evidence": {k: run_ev.get(k) for k in ("run_id", "href")} if run_ev else None,
        "items": items,
    }


def deployment(principal: Principal, tenant_id: str, deployment_id: str, period: str) -> dict[str, Any]:
    """One deployment: its status events and the commits that went out with it."""
    now, days = authorized(principal, tenant_id, period)
    all_deps = panels_data.deployment_rows(panels_data.signals(tenant_id, "deployment", max(days, 90), now))
    mine = [d for d in all_deps if d["id"] == deployment_id]
    if not mine:
        raise NotFound(f"no deployment '{deployment_id}' in this tenant", code="deployment_not_found")
    dep = mine[0]
    earlier = [
        d
        for d in all_deps
        if d["repository"] == dep["repository"] and d["at"] < dep["at"] and panels_data.is_production(d)
    ]
    since = (
        datetime.fromisoformat(earlier[0]["at"])
        if earlier
        else datetime.fromisoformat(dep["at"]) - timedelta(days=7)
    )
    until = datetime.fromisoformat(dep["at"])
    commit_rows = [
        s
        for s in SignalStore(tenant_id).query("commit", since, until)
        if (s.attributes.get("repository") or s.entity) == dep["repository"]
    ]
    commits = [
        {
            "sha": s.attributes.get("sha"),
            "at": s.occurred_at.isoformat(),
            "author": s.attributes.get("author"),
            "branch": s.attributes.get("branch"),
            "deployed_head": s.attributes.get("sha") == dep["sha"],
            "evidence": {"type": "signal", "signal_id": s.signal_id, "delivery_id": s.delivery_id},
        }
        for s in commit_rows
    ]
    prs = [
        {
            "number": s.attributes.get("number"),
            "merged_at": s.attributes.get("merged_at"),
            "author": s.attributes.get("author"),
            "merge_commit_sha": s.attributes.get("merge_commit_sha"),
            "evidence": {"type": "signal", "signal_id": s.signal_id, "delivery_id": s.delivery_id},
        }
        for s in SignalStore(tenant_id).query("change", since, until)
        if (s.attributes.get("repository") or s.entity) == dep["repository"]
    ]
    return {
        "tenant_id": tenant_id,
        "deployment": dep,
        "statuses": mine,
        "commits": {
            "available": bool(commits or prs),
            "reason": None
            if commits or prs
            else "no GitHub push or pull_request events ingested for this repository before this deployment",
            "since": since.isoformat(),
            "items": commits,
            "pull_requests": prs,
        },
        "diff": _compare_links(dep, commit_rows),
    }


NO_PARENT = "0" * 40  # a push that created its branch has no `before` commit


def _compare_links(dep: dict[str, Any], commit_rows: list[Any]) -> dict[str, Any]:
    """The code that went out: per GitHub push before this deployment, the compare view of its
    before...after commits (a push creating its branch: the head commit's page), as GitHub's own
    push payload links it. Newest push first."""
    pushes: dict[tuple[str, str], dict[str, Any]] = {}
    for s in commit_rows:
        a = s.attributes
        head, before = a.get("push_head"), a.get("pushed_after")
        if not head or not before:
            continue
        base = str(a.get("repository_url") or f"https://github.com/{dep['repository']}").rstrip("/")
        push = pushes.setdefault(
            (before, head),
            {
                "before": before,
                "after": head,
                "branch": a.get("branch"),
                "href": f"{base}/commit/{head}"
                if before == NO_PARENT
                else f"{base}/compare/{before}...{head}",
                "commits": 0,
                "at": s.occurred_at.isoformat(),
                "deployed_head": head == dep["sha"],
                "evidence": {"type": "signal", "signal_id": s.signal_id, "delivery_id": s.delivery_id},
            },
        )
        push["commits"] += 1
        push["at"] = max(push["at"], s.occurred_at.isoformat())
    if not pushes:
        return unavailable(
            "no GitHub push event with before/after commits was ingested for this repository before"
            " this deployment"
        )
    items = sorted(pushes.values(), key=lambda p: p["at"], reverse=True)
    return {"available": True, "reason": None, "items": items}
