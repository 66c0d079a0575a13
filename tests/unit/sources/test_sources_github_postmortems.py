"""Postmortems from GitHub `issues` events, and the postmortem coverage of the incident rows the
mttr run delivers.

The GitHub body is octokit/webhooks' real `issues` `labeled` example (github_issue_sample.py: path,
commit and URL there). As it comes it labels a README typo `bug` and is no postmortem; the tests
then relabel the same body `postmortem` and write the incident's PagerDuty link into it. The
incidents are the real PagerDuty v3 bodies of shared/fixtures/real/pagerduty (Zulip's captures)
with their ids, priorities and times set per case. Expected numbers are counted here, over the
cases the test writes.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from companyos.domain import verdict
from companyos.domain.verdict import Band
from companyos.runs.formula_base import SignalRow
from companyos.runs.rows_ops import _incidents_entry
from companyos.sources import registry
from companyos.sources.github_postmortems import references

from tests.conftest import real_fixture
from tests.unit.sources.github_issue_sample import LABELED
from tests.unit.sources.helpers import request

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def parse(doc: dict[str, Any]):
    return registry.get("github").parse(request(json.dumps(doc).encode(), X_GitHub_Event="issues"))


def postmortem(number: int, body: str, *, at: datetime, state: str = "open", **changes: Any) -> dict:
    """The real labeled event, relabelled `postmortem`, on issue `number` with this body."""
    doc = json.loads(LABELED)
    doc["label"].update(name="postmortem", url=doc["label"]["url"].replace("bug", "postmortem"))
    doc["issue"]["labels"] = [copy.deepcopy(doc["label"])]
    doc["issue"].update(
        number=number,
        html_url=f"https://github.com/Codertocat/Hello-World/issues/{number}",
        title=f"Postmortem {number}",
        body=body,
        state=state,
        updated_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        closed_at=at.strftime("%Y-%m-%dT%H:%M:%SZ") if state == "closed" else None,
    )
    doc.update(changes)
    return doc


def test_the_real_issue_event_is_no_postmortem():
    parsed = registry.get("github").parse(request(LABELED.encode(), X_GitHub_Event="issues"))
    assert parsed.signals == [] and parsed.ignored_reason == "the issue carries no postmortem label"


def test_a_postmortem_issue_names_its_incidents_by_pagerduty_link_or_number():
    at = NOW - timedelta(days=2)
    body = "Impact: checkout down.\nIncident: https://acme.pagerduty.com/incidents/Q1YEM2TZ2FGZ46 (PD-812)"
    (s,) = parse(postmortem(7, body, at=at, state="closed")).signals
    assert s.kind == "postmortem" and s.entity == "Codertocat/Hello-World" and s.occurred_at == at
    a = s.attributes
    assert (a["incident_ids"], a["incident_numbers"]) == (["Q1YEM2TZ2FGZ46"], [812])
    assert a["active"] is True and a["completed"] is True and a["url"].endswith("/issues/7")
    assert references("see PagerDuty incident #44 and pagerduty #45; not #46") == ([], [44, 45])
    eu = "https://x.eu.pagerduty.com/incidents/PABC12"
    assert references(f"{eu} twice {eu}") == (["PABC12"], [])


def test_removing_the_label_is_recorded_and_other_labels_are_not():
    at = NOW - timedelta(days=1)
    removed = postmortem(3, "https://acme.pagerduty.com/incidents/PX", at=at, action="unlabeled")
    removed["issue"]["labels"] = []
    (s,) = parse(removed).signals
    assert s.attributes["active"] is False
    bug = json.loads(LABELED)
    bug["action"] = "unlabeled"
    assert parse(bug).signals == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["issue"].update(labels="postmortem"), "issue.labels"),
        (lambda d: d["issue"].pop("updated_at"), "issue.updated_at"),
        (lambda d: d["issue"].update(updated_at="yesterday"), "issue.updated_at"),
        (lambda d: d.pop("repository"), "repository.full_name"),
        (lambda d: d.update(issue="#7"), "issue"),
        (lambda d: d["repository"].update(full_name={"a": 1}), "repository.full_name"),
    ],
)
def test_an_odd_issue_body_is_refused_with_the_field(change, path):
    from companyos.domain.errors import InvalidPayload

    doc = postmortem(7, "https://acme.pagerduty.com/incidents/PX", at=NOW)
    change(doc)
    with pytest.raises(InvalidPayload) as err:
        parse(doc)
    assert err.value.status == 422 and err.value.details["path"] == path


# ------------------------------------------------------------------ coverage of the incident rows


def incident_events(
    iid: str, number: int, priority: str | None, urgency: str, start: datetime, resolved: bool
):
    """The real triggered (and resolved) bodies as this incident."""
    out = []
    for name, at in (("triggered", start), ("resolved", start + timedelta(minutes=40))):
        if name == "resolved" and not resolved:
            break
        doc = json.loads(real_fixture(f"pagerduty/incident.{name}.json"))
        doc["event"].update(id=f"{iid}-{name}", occurred_at=at.isoformat())
        data = doc["event"]["data"]
        data.update(id=iid, number=number, urgency=urgency)
        data["priority"] = {"id": "PR", "summary": priority} if priority else None
        out += registry.get("pagerduty").parse(request(json.dumps(doc).encode())).signals
    return out


def rows(signals) -> list[SignalRow]:
    src = {"incident": "pagerduty", "postmortem": "github"}
    return [
        SignalRow(s.kind, f"{s.kind}-{i}", s.occurred_at, s.attributes, s.entity, None, src[s.kind], f"d{i}")
        for i, s in enumerate(signals)
    ]


# (incident id, number, priority, urgency, days ago, resolved, postmortem body or None, issue state)
CASES = [
    ("PAAA1", 101, "P1", "high", 3, True, "https://acme.pagerduty.com/incidents/PAAA1", "closed"),
    ("PBBB2", 102, "P2", "high", 5, True, "Review of PagerDuty #102", "open"),
    ("PCCC3", 103, "P2", "high", 8, True, None, None),
    ("PDDD4", 104, None, "high", 10, True, None, None),  # no priority, high urgency: counts
    ("PEEE5", 105, "P3", "low", 4, True, "https://acme.pagerduty.com/incidents/PEEE5", "closed"),
    ("PFFF6", 106, "P1", "high", 1, False, None, None),  # still open: not due yet
    ("PGGG7", 107, "P1", "high", 40, True, "https://acme.pagerduty.com/incidents/PGGG7", "closed"),  # old
]


def entry_of(signals) -> dict[str, Any]:
    """The incident rows of a 28-day mttr run at NOW over these signals."""
    all_rows = rows(signals)
    incidents = [r for r in all_rows if r.kind == "incident"]
    return _incidents_entry("acme", incidents, 28, NOW, [r for r in all_rows if r.kind == "postmortem"])


def _signals():
    out = []
    for n, (iid, number, prio, urg, ago, resolved, body, state) in enumerate(CASES):
        start = NOW - timedelta(days=ago)
        out += incident_events(iid, number, prio, urg, start, resolved)
        if body:
            out += parse(postmortem(500 + n, body, at=start + timedelta(days=1), state=state)).signals
    return out


def test_postmortem_coverage_is_the_share_of_resolved_p1_p2_incidents_with_a_postmortem():
    entry = entry_of(_signals())
    since = datetime.combine((NOW - timedelta(days=27)).date(), datetime.min.time(), UTC)  # 28 days
    due = [c for c in CASES if c[5] and (c[2] in ("P1", "P2") or (c[2] is None and c[3] == "high"))]
    due = [c for c in due if NOW - timedelta(days=c[4]) + timedelta(minutes=40) >= since]
    covered = [c for c in due if c[6]]
    assert (len(due), len(covered)) == (4, 2)
    pm = entry["postmortems"]
    assert (pm["qualifying"], pm["covered"], pm["completed"]) == (4, 2, 1)
    assert entry["postmortem_pct"] == pm["pct"] == round(100 * len(covered) / len(due), 1) == 50.0
    assert {m["id"] for m in pm["missing"]} == {c[0] for c in due if not c[6]}
    items = {i["id"]: i for i in entry["items"]}
    assert items["PAAA1"]["postmortem"]["state"] == "completed"
    assert items["PBBB2"]["postmortem"]["state"] == "in progress"  # found by its number
    assert items["PBBB2"]["postmortem"]["url"].endswith("/issues/501")
    assert items["PCCC3"]["postmortem"] is None
    objects = [s["object"] for s in entry["evidence"]["sources"]]
    assert objects == ["pagerduty.incident", "github.postmortem"]
    assert verdict.postmortem_coverage(entry["postmortem_pct"]) is Band.CRITICAL


def test_a_postmortem_unlabelled_later_no_longer_covers_its_incident():
    start = NOW - timedelta(days=2)
    link = "https://acme.pagerduty.com/incidents/PAAA1"
    events = incident_events("PAAA1", 101, "P1", "high", start, True)
    events += parse(postmortem(9, link, at=start + timedelta(hours=5))).signals
    entry = entry_of(events)
    assert entry["postmortem_pct"] == 100.0
    removed = postmortem(9, link, at=start + timedelta(hours=9), action="unlabeled")
    removed["issue"]["labels"] = []
    events += parse(removed).signals
    entry = entry_of(events)
    assert entry["postmortem_pct"] == 0.0 and entry["items"][0]["postmortem"] is None


def test_no_resolved_major_incident_is_no_coverage_not_100_percent():
    events = incident_events("PEEE5", 105, "P3", "low", NOW - timedelta(days=2), True)
    entry = entry_of(events)
    assert entry["postmortem_pct"] is None and entry["postmortems"]["qualifying"] == 0
    assert verdict.postmortem_coverage(None) is Band.UNKNOWN


@pytest.mark.parametrize(
    ("pct", "band"),
    [
        (100.0, Band.HEALTHY),
        (90.0, Band.HEALTHY),
        (89.9, Band.WARNING),
        (70.0, Band.WARNING),
        (69.9, Band.CRITICAL),
        (0.0, Band.CRITICAL),
    ],
)
def test_the_model_judges_postmortem_coverage_90_healthy_70_warning(pct, band):
    assert verdict.postmortem_coverage(pct) is band


def test_odd_optional_fields_are_read_as_absent_not_a_crash():
    doc = postmortem(8, "https://acme.pagerduty.com/incidents/PX", at=NOW)
    doc["issue"].update(user="octocat", title=None, body=None, closed_at=17)
    doc["label"] = "postmortem"
    (s,) = parse(doc).signals
    assert s.attributes["author"] is None and s.attributes["incident_ids"] == []
