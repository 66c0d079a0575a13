"""GitHub: every real fixture in ../shared/fixtures/real/github parses into the documented signals."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources.base import hmac_sha256_hex
from companyos.sources.github import GitHubSource

from tests.conftest import real_fixture
from tests.unit.sources.helpers import parse, request


def gh(fixture: str, event: str, delivery: str = "d-1"):
    return parse("github", f"github/{fixture}", X_GitHub_Event=event, X_GitHub_Delivery=delivery)


def test_official_test_vector_from_githubs_docs():
    # Given GitHub's documented vector (signatures.md)
    body, secret = b"Hello, World!", "It's a Secret to Everybody"
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert hmac_sha256_hex(secret, body) == expected
    # Then the header verifies, and any other secret or a tampered body does not
    GitHubSource().verify(request(body, X_Hub_Signature_256=f"sha256={expected}"), [secret])
    with pytest.raises(SignatureInvalid):
        GitHubSource().verify(request(body + b" ", X_Hub_Signature_256=f"sha256={expected}"), [secret])
    with pytest.raises(SignatureInvalid):
        GitHubSource().verify(request(body, X_Hub_Signature_256=f"sha256={expected}"), ["other"])
    with pytest.raises(SignatureInvalid) as missing:
        GitHubSource().verify(request(body), [secret])
    assert missing.value.code == "signature_missing"


def test_rotation_previous_secret_still_verifies():
    body = real_fixture("github/ping.json")
    header = "sha256=" + hmac_sha256_hex("old", body)
    GitHubSource().verify(request(body, X_Hub_Signature_256=header), ["new", "old"])


def test_deployment_created_records_sha_and_created_at():
    parsed = gh("deployment.created.json", "deployment", "dep-1")
    (s,) = parsed.signals
    assert parsed.delivery_id == "dep-1" and s.kind == "deployment_created"
    assert s.entity == "Codertocat/Hello-World"
    assert s.occurred_at == datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC)
    assert s.attributes["sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert s.attributes["deployment_id"] == 145988746 and s.attributes["environment"] == "production"


def test_deployment_status_success_shape_is_unchanged():
    (s,) = gh("deployment_status.created.success.json", "deployment_status").signals
    assert s.kind == "deployment" and s.attributes["state"] == "success"
    assert s.attributes["succeeded"] is True and s.attributes["environment"] == "production"
    assert s.attributes["sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert s.occurred_at == datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC)
    assert set(s.attributes) == {
        "state",
        "succeeded",
        "environment",
        "sha",
        "ref",
        "deployment_id",
        "status_id",
        "deployment_created_at",
        "repository",
    }


def test_deployment_status_failure_2015_body():
    (s,) = gh("deployment_status.failure.zulip.json", "deployment_status").signals
    assert s.attributes["state"] == "failure" and s.attributes["succeeded"] is False
    assert s.entity == "baxterthehacker/public-repo"
    assert s.occurred_at == datetime(2015, 5, 5, 23, 40, 39, tzinfo=UTC)


def test_workflow_run_completed_is_a_build_with_duration_and_queue_time():
    (s,) = gh("workflow_run.completed.json", "workflow_run").signals
    a = s.attributes
    assert s.kind == "build" and s.entity == "octo-org/octo-repo"
    assert a["type"] == "workflow_run" and a["run_id"] == 289782451 and a["name"] == "test"
    assert a["conclusion"] == "success" and a["succeeded"] is True
    assert a["started_at"] == "2020-10-05T16:33:49+00:00" and a["completed_at"] == "2020-10-05T16:33:49+00:00"
    assert a["duration_s"] == 0.0 and a["queued_s"] == 25.0
    assert a["head_sha"] == "3484a3fb816e0859fd6e1cea078d76385ff50625"


@pytest.mark.parametrize(
    ("fixture", "conclusion", "succeeded"),
    [
        ("check_run.completed.success.json", "success", True),
        ("check_run.completed.failure.json", "failure", False),
    ],
)
def test_check_run_completed_is_a_build(fixture, conclusion, succeeded):
    (s,) = gh(fixture, "check_run").signals
    a = s.attributes
    assert s.kind == "build" and a["type"] == "check_run" and a["run_id"] == 128620228
    assert a["conclusion"] == conclusion and a["succeeded"] is succeeded
    assert a["name"] == "Octocoders-linter" and a["head_branch"] == "changes"
    assert a["duration_s"] == 0.0 and s.occurred_at == datetime(2019, 5, 15, 15, 21, 12, tzinfo=UTC)


def test_merged_pull_request_is_a_change():
    (s,) = gh("pull_request.closed.merged.json", "pull_request").signals
    a = s.attributes
    assert s.kind == "change" and s.entity == "dlang/phobos" and a["number"] == 4963
    assert a["created_at"] == "2016-12-16T22:02:22+00:00" and a["merged_at"] == "2016-12-17T17:26:17+00:00"
    assert a["merge_commit_sha"] == "996543316ee5d6212151b5dda2cb3489e3b31c5c"
    assert a["open_to_merge_s"] == 19 * 3600 + 23 * 60 + 55
    assert s.occurred_at == datetime(2016, 12, 17, 17, 26, 17, tzinfo=UTC)


def test_closed_unmerged_pull_request_is_ignored_with_a_reason():
    parsed = gh("pull_request.closed.not-merged.octokit.json", "pull_request")
    assert parsed.signals == [] and "without being merged" in (parsed.ignored_reason or "")


def test_push_gives_one_commit_signal_per_commit():
    (s,) = gh("push.json", "push").signals
    assert s.kind == "commit" and s.key == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert s.attributes["sha"] == s.key and s.attributes["branch"] == "master"
    assert s.occurred_at == datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)


def test_push_keeps_its_before_and_after_commits_for_the_compare_link():
    doc = json.loads(real_fixture("github/push.json"))
    (s,) = gh("push.json", "push").signals
    assert (s.attributes["pushed_after"], s.attributes["push_head"]) == (doc["before"], doc["after"])
    assert (
        s.attributes["repository_url"]
        == doc["repository"]["html_url"]
        == "https://github.com/Codertocat/Hello-World"
    )


def test_push_schema_error_names_the_commit_field():
    doc = json.loads(real_fixture("github/push.json"))
    del doc["commits"][0]["timestamp"]
    with pytest.raises(InvalidPayload) as err:
        GitHubSource().parse(request(json.dumps(doc).encode(), X_GitHub_Event="push"))
    assert err.value.details["path"] == "commits.0.timestamp"


def test_ping_and_unknown_events_are_ignored():
    assert gh("ping.json", "ping").ignored_reason == "ping acknowledged"
    unknown = gh("ping.json", "star")
    assert unknown.signals == [] and "not used" in (unknown.ignored_reason or "")


def test_delivery_id_falls_back_to_the_content_hash():
    body = real_fixture("github/push.json")
    a = GitHubSource().parse(request(body, X_GitHub_Event="push"))
    b = GitHubSource().parse(request(body, X_GitHub_Event="push"))
    assert a.delivery_id == b.delivery_id and len(a.delivery_id) == 32
