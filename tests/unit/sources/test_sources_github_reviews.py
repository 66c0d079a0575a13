"""Security review requests from the real GitHub pull request events (shared/fixtures/real/
github-extra). None of the real samples asks a security team or sets a security label (the README:
"GitHub security label: not found"), so the tests first show the real events are not read as
security reviews, then rename the team / label of the same bodies to what a security team uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from companyos.domain.verdict import Band
from companyos.runs.formula_base import SignalRow
from companyos.sources import registry
from companyos.views.security_reviews import reviews_entry

from tests.conftest import real_fixture
from tests.unit.sources.helpers import request

TEAM = "github-extra/zulip-pull_request__review_requested_team_reviewer.json"
LABELED = "github-extra/octokit-pull_request.labeled.payload.json"
REVIEW = "github-extra/octokit-pull_request_review.submitted.payload.json"


def parse(doc: dict, event: str = "pull_request"):
    return registry.get("github").parse(request(json.dumps(doc).encode(), X_GitHub_Event=event))


def fixture(name: str) -> dict:
    return json.loads(real_fixture(name))


def rows(*deliveries) -> list[SignalRow]:
    return [
        SignalRow(s.kind, f"{n}-{i}", s.occurred_at, s.attributes, s.entity, None, "github", f"d{n}")
        for n, d in enumerate(deliveries)
        for i, s in enumerate(d.signals)
    ]


def test_the_real_team_and_label_events_are_not_security_reviews():
    team = registry.get("github").parse(request(real_fixture(TEAM), X_GitHub_Event="pull_request"))
    label = registry.get("github").parse(request(real_fixture(LABELED), X_GitHub_Event="pull_request"))
    assert team.signals == [] and label.signals == []  # teams "authority", label "bug"
    assert "not used" in (team.ignored_reason or "")


def test_a_security_team_request_is_pending_until_a_member_approves():
    doc = fixture(TEAM)
    doc["requested_team"].update(slug="security", name="Security")
    doc["pull_request"]["requested_teams"].append({**doc["requested_team"]})
    requested = parse(doc)
    (s,) = requested.signals
    assert s.kind == "security_review" and s.attributes["via"] == "team:security"
    assert (
        s.attributes["requester"] == doc["sender"]["login"]
        and s.attributes["url"] == doc["pull_request"]["html_url"]
    )
    asked_at = datetime.fromisoformat(doc["pull_request"]["updated_at"].replace("Z", "+00:00"))
    assert s.occurred_at == asked_at

    now = asked_at + timedelta(days=3, hours=12)
    entry = reviews_entry(rows(requested), now)
    (item,) = entry["items"]
    assert item["id"] == f"{doc['repository']['full_name']}#{doc['pull_request']['number']}"
    assert item["age_days"] == 3.5 and item["display"] == "4 d" and item["status"] is Band.WARNING
    assert item["requester"] == "singhsourabh" and item["href"].startswith("https://github.com/")
    assert entry["evidence"]["sources"][0] == {
        "type": "signal", "object": "github.security_review", "count": 1, "latest_at": asked_at.isoformat()
    }  # fmt: skip

    review = fixture(REVIEW)  # the real review body, moved onto that pull request and approved
    review["repository"] = doc["repository"]
    review["pull_request"].update(number=doc["pull_request"]["number"], requested_teams=[])
    review["review"].update(state="approved", submitted_at="2020-03-07T10:00:00Z")
    reviewed = parse(review, "pull_request_review")
    assert reviewed.signals[0].attributes["still_requested"] == []
    assert reviews_entry(rows(requested, reviewed), now)["items"] == []


def test_a_commented_review_does_not_answer_and_an_old_request_is_critical():
    doc = fixture(TEAM)
    doc["requested_team"].update(slug="appsec", name="AppSec")
    requested = parse(doc)
    commented = parse(fixture(REVIEW), "pull_request_review")  # state "commented": not an answer
    assert commented.signals == []
    asked = requested.signals[0].occurred_at
    (item,) = reviews_entry(rows(requested), asked + timedelta(days=8))["items"]
    assert item["status"] is Band.CRITICAL and item["via"] == ["appsec"]


def test_a_security_label_waits_until_removed_or_the_pull_request_closes():
    doc = fixture(LABELED)
    doc["label"]["name"] = "security-review"
    doc["pull_request"]["labels"] = [doc["label"]]
    labeled = parse(doc)
    assert [s.attributes["via"] for s in labeled.signals] == ["label:security-review"]
    at = labeled.signals[0].occurred_at
    assert len(reviews_entry(rows(labeled), at + timedelta(hours=5))["items"]) == 1
    fresh = reviews_entry(rows(labeled), at + timedelta(hours=5))["items"][0]
    assert fresh["display"] == "5 h" and fresh["status"] is Band.HEALTHY

    closed = fixture("github/pull_request.closed.not-merged.octokit.json")
    closed["repository"] = doc["repository"]
    closed["pull_request"].update(number=doc["pull_request"]["number"], labels=[doc["label"]])
    shut = parse(closed)
    assert [s.attributes["reason"] for s in shut.signals] == ["pull request closed"]
    assert reviews_entry(rows(labeled, shut), at + timedelta(days=1))["items"] == []

    doc2 = json.loads(json.dumps(doc))
    doc2["action"] = "unlabeled"
    doc2["pull_request"]["updated_at"] = "2019-05-16T09:00:00Z"
    removed = parse(doc2)
    assert reviews_entry(rows(labeled, removed), at + timedelta(days=2))["items"] == []


def test_no_review_request_ever_is_unavailable_with_the_reason():
    entry = reviews_entry([], datetime(2026, 6, 10, tzinfo=UTC))
    assert entry == {"available": False, "reason": "no GitHub security review requests ingested"}
