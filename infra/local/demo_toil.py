"""Demo time tracking, the input of toil_ratio: weekly Toggl Track *Detailed report* CSV exports of
the ops engineers' time and one Jira issue search answer with worklogs of the OPS project, both in
the tools' own formats, signed and ingested through `ingest()` (`/api/ingest/time_tracking`).

Entries are tagged the way the teams would: `toil` / `manual` / `interrupt` for hand work, else
`automation`, on-call or nothing. The ops-heavy tenant spends more of its ops time by hand than the
admin-heavy one, and opts in to counting its PagerDuty interrupts (acknowledged -> resolved) with its
own version of the toil_ratio contract (params `pagerduty_interrupts: true`, plus the project
"Ops chores" counted as toil) — the tenant setting docs/sources.md describes.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from companyos.runs import contracts

if TYPE_CHECKING:
    from infra.local.demo_deliver import Deliverer
    from infra.local.demo_tenants import DemoTenant

WEEKS = 8  # the 28-day window and the one before it
TOGGL_HEADER = [
    *("User", "Email", "Client", "Project", "Task", "Description", "Billable"),
    *("Start date", "Start time", "End date", "End time", "Duration", "Tags", "Amount ()"),
]
# share of an engineer's ops entries done by hand, per profile
TOIL_SHARE = {"ops-heavy": 0.34, "admin-heavy": 0.16}
ENGINEERS = {
    "ops-heavy": (
        ("Omar Haddad", "omar@northwind.demo", "SRE"),
        ("Lena Fox", "lena@northwind.demo", "SRE"),
        ("Raj Patel", "raj@northwind.demo", "Platform"),
    ),
    "admin-heavy": (
        ("Ben Ito", "ben@globex.demo", "Platform"),
        ("Gwen Ruiz", "gwen@globex.demo", "Platform"),
    ),
}
TOIL_WORK = (("Operations", "Rotate TLS certificates by hand", "manual"),
             ("Operations", "Restart stuck batch jobs", "toil"),
             ("Operations", "Paged: disk full on a worker", "interrupt"),
             ("Ops chores", "Access requests", ""))  # fmt: skip
OPS_WORK = (("Operations", "Terraform module for queues", "automation"),
            ("Infrastructure", "Capacity review", ""),
            ("Operations", "Runbook automation", "automation"))  # fmt: skip


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _day_entries(day: date, profile: str, rng: random.Random) -> list[list[str]]:
    rows = []
    for user, email, team in ENGINEERS.get(profile, ENGINEERS["admin-heavy"]):
        at = datetime.combine(day, time(9, 0), UTC)
        for _ in range(rng.randint(3, 4)):
            project, what, tag = rng.choice(TOIL_WORK if rng.random() < TOIL_SHARE[profile] else OPS_WORK)
            seconds = rng.randint(3, 10) * 900
            end = at + timedelta(seconds=seconds)
            start_at = [at.date().isoformat(), at.strftime("%H:%M:%S")]
            end_at = [end.date().isoformat(), end.strftime("%H:%M:%S")]
            rows.append(
                [user, email, team, project, "", what, "No", *start_at, *end_at, _hms(seconds), tag, ""]
            )
            at = end + timedelta(minutes=rng.randint(5, 30))
    return rows


def toggl_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TOGGL_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def jira_search(days: list[date], profile: str, rng: random.Random) -> dict[str, Any]:
    """OPS issues with their worklogs (`GET /rest/api/2/search?fields=project,labels,worklog`)."""
    issues = []
    people = ENGINEERS.get(profile, ENGINEERS["admin-heavy"])
    for n, (summary, labels) in enumerate((("Manual failover drill", ["toil"]),
                                           ("Automate user offboarding", ["automation"]),
                                           ("Clean up orphaned volumes", ["manual", "cost"]))):  # fmt: skip
        worklogs = []
        for j, day in enumerate(rng.sample(days, k=min(4, len(days)))):
            user, email, _ = rng.choice(people)
            started = datetime.combine(day, time(14, 0), UTC)
            seconds = rng.randint(2, 8) * 900
            worklogs.append({
                "author": {"name": email.split("@")[0], "displayName": user, "emailAddress": email},
                "started": started.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "timeSpent": f"{seconds // 60}m", "timeSpentSeconds": seconds,
                "id": f"{20000 + n * 10 + j}", "issueId": f"{10100 + n}",
            })  # fmt: skip
        log = {"startAt": 0, "maxResults": 20, "total": len(worklogs), "worklogs": worklogs}
        project = {"key": "OPS", "name": "Operations"}
        fields = {"summary": summary, "labels": labels, "project": project, "worklog": log}
        issues.append({"id": f"{10100 + n}", "key": f"OPS-{101 + n}", "fields": fields})
    return {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues}


def _tenant_rule(tenant_id: str) -> None:
    """The ops-heavy tenant's own toil rule: PagerDuty interrupts counted, "Ops chores" is toil."""
    base = contracts.get("toil_ratio")
    own = contracts.Contract.model_validate(
        {
            **base.to_state(),
            "tenant_id": tenant_id,
            "version": "1.0.1",
            "variant_label": "PagerDuty interrupts counted; Ops chores is toil",
            "params": {**base.params, "pagerduty_interrupts": True, "toil_projects": ["Ops chores"]},
        }
    )
    store = contracts.ContractStore(tenant_id)
    if store.version(own.kpi_id, own.version) is None:
        store.publish(own)
    store.activate(own.kpi_id, own.version)


def seed(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> dict[str, Any]:
    profile = demo.tenant.profile if demo.tenant.profile in TOIL_SHARE else "admin-heavy"
    if profile == "ops-heavy":
        _tenant_rule(demo.tenant.id)
    first = now.date() - timedelta(days=WEEKS * 7)
    workdays = [d for i in range(WEEKS * 7) if (d := first + timedelta(days=i)).weekday() < 5]
    for week in range(WEEKS):
        days = [d for d in workdays if (d - first).days // 7 == week]
        rows = [r for d in days for r in _day_entries(d, profile, rng)]
        if rows:
            out.send("time_tracking", toggl_csv(rows), {"X-CompanyOS-Delivery": f"toggl-week-{days[0]}"})
    recent = [d for d in workdays if d >= now.date() - timedelta(days=27)]
    doc = jira_search(recent, profile, rng)
    out.send("time_tracking", json.dumps(doc).encode(), {"X-CompanyOS-Delivery": f"jira-{now.date()}"})
    return {"weeks": WEEKS, "jira_issues": len(doc["issues"]), "pagerduty_interrupts": profile == "ops-heavy"}
