"""Demo postmortems: GitHub `issues` webhook events (opened with the `postmortem` label, later
closed: completed) in the service's repository, naming the PagerDuty incident by its URL.

Written for the tenant's resolved P1/P2 incidents, a day or more after the resolution, except every
`postmortem_gap`-th one (the postmortems still owed): the roll-up's postmortem coverage then comes
out of the same mttr run as MTTR (Northwind about 5 of 6, Globex about 1 of 2).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra.local.demo_deliver import Deliverer, ts

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant


def _issue(repo: str, number: int, inc: dict[str, Any], opened: datetime, closed: datetime | None) -> dict:
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "number": number,
        "title": f"Postmortem: {inc['title']} (PagerDuty #{inc['number']})",
        "body": f"## Incident\n{inc['url']}\n\n## Impact\n\n## Timeline\n\n## Root cause\n\n## Actions\n",
        "user": {"login": "oncall-lead", "type": "User"},
        "labels": [{"name": "postmortem", "color": "b60205", "default": False}],
        "state": "closed" if closed else "open",
        "created_at": ts(opened),
        "updated_at": ts(closed or opened),
        "closed_at": ts(closed) if closed else None,
    }


def seed(out: Deliverer, demo: DemoTenant, now: datetime, resolved: list[dict[str, Any]]) -> int:
    """Sends the postmortem issue events; returns how many postmortems were written."""
    repos = {service: repo for repo, service, _ in demo.repos}
    major = sorted((i for i in resolved if i["priority"] in ("P1", "P2")), key=lambda i: i["resolved"])
    written = 0
    for n, inc in enumerate(major):
        opened = inc["resolved"] + timedelta(days=1, hours=n % 5)
        if n % demo.postmortem_gap == demo.postmortem_gap - 1 or opened > now:
            continue  # still owed
        repo, number = repos[inc["service"]], 900 + n
        done = opened + timedelta(days=2 + n % 3)
        for action, closed in (("opened", None), ("closed", done)):
            if closed is not None and closed > now:
                break
            doc = {
                "action": action,
                "issue": _issue(repo, number, inc, opened, closed),
                "repository": {"full_name": repo, "name": repo.split("/")[1], "html_url": f"https://github.com/{repo}"},
                "sender": {"login": "oncall-lead", "type": "User"},
            }  # fmt: skip
            delivery = f"{demo.tenant.id}-pm-{number}-{action}"
            out.send("github", doc, {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery})
        written += 1
    return written
