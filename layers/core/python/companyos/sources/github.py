"""GitHub webhooks (`X-Hub-Signature-256`, event name in `X-GitHub-Event`, id in `X-GitHub-Delivery`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from companyos.domain.errors import InvalidPayload
from companyos.sources import github_postmortems, github_reviews
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    content_id,
    iso,
    load_json,
    optional_time,
    parse_time,
    require,
    verify_sha256_header,
)

FINAL_DEPLOY_STATES = {"success": True, "failure": False, "error": False}
# Build conclusions: success/failure count towards the success rate; the rest are neither (None).
BUILD_CONCLUSIONS: dict[str, bool | None] = {
    "success": True,
    "failure": False,
    "timed_out": False,
    "startup_failure": False,
    "cancelled": None,
    "skipped": None,
    "neutral": None,
    "stale": None,
    "action_required": None,
}


class GitHubSource:
    name = "github"
    retention_days = 400  # engineering signals feed 365-day windows

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_sha256_header(request, "X-Hub-Signature-256", secrets)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        event = request.header("X-GitHub-Event") or ""
        delivery_id = request.header("X-GitHub-Delivery") or content_id(request.body)
        doc = load_json(request.body)
        if not isinstance(doc, dict):
            raise InvalidPayload("a GitHub webhook body must be a JSON object", details={"path": ""})
        parser = _PARSERS.get(event)
        if parser is None:
            return ParsedDelivery(event, delivery_id, ignored_reason=f"GitHub event '{event}' is not used")
        signals, reason = parser(doc)
        return ParsedDelivery(event, delivery_id, signals, ignored_reason=reason)


def _deployment_status(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    status = require(doc, "deployment_status")
    deployment = require(doc, "deployment")
    state = require(doc, "deployment_status.state")
    if state not in FINAL_DEPLOY_STATES:
        return [], f"deployment state '{state}' is not final"
    repo = require(doc, "repository.full_name")
    occurred = parse_time(status.get("created_at"), "deployment_status.created_at")
    attrs = {
        "state": state,
        "succeeded": FINAL_DEPLOY_STATES[state],
        "environment": status.get("environment") or deployment.get("environment") or "unknown",
        "sha": deployment.get("sha"),
        "ref": deployment.get("ref"),
        "deployment_id": require(doc, "deployment.id"),
        "status_id": require(doc, "deployment_status.id"),
        "deployment_created_at": deployment.get("created_at"),
        "repository": repo,
    }
    return [Signal("deployment", occurred, repo, attrs, key=str(attrs["status_id"]), fact=True)], None


def _deployment(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    action = doc.get("action")
    if action != "created":
        return [], f"deployment action '{action}' is not used"
    deployment = require(doc, "deployment")
    repo = require(doc, "repository.full_name")
    created = parse_time(deployment.get("created_at"), "deployment.created_at")
    attrs = {
        "deployment_id": require(doc, "deployment.id"),
        "sha": require(doc, "deployment.sha"),
        "ref": deployment.get("ref"),
        "task": deployment.get("task"),
        "environment": deployment.get("environment") or "unknown",
        "created_at": created.isoformat(),
        "creator": (deployment.get("creator") or {}).get("login"),
        "repository": repo,
    }
    return [
        Signal("deployment_created", created, repo, attrs, key=str(attrs["deployment_id"]), fact=True)
    ], None


def _duration(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _build(
    kind: str, run_id: Any, conclusion: str, started: datetime | None, completed: datetime, **extra: Any
) -> Signal:
    attrs = {
        "type": kind,
        "run_id": run_id,
        "conclusion": conclusion,
        "succeeded": BUILD_CONCLUSIONS.get(conclusion),
        "started_at": iso(started),
        "completed_at": completed.isoformat(),
        "duration_s": _duration(started, completed),
        **extra,
    }
    return Signal(
        "build", completed, extra["repository"], attrs, key=f"{kind}:{run_id}:{extra.get('attempt', 1)}"
    )


def _workflow_run(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    action = doc.get("action")
    if action != "completed":
        return [], f"workflow_run action '{action}' is not used (only 'completed')"
    run = require(doc, "workflow_run")
    conclusion = require(doc, "workflow_run.conclusion")
    created = optional_time(run.get("created_at"))
    started = optional_time(run.get("run_started_at")) or created
    completed = parse_time(run.get("updated_at"), "workflow_run.updated_at")
    signal = _build(
        "workflow_run",
        require(doc, "workflow_run.id"),
        conclusion,
        started,
        completed,
        name=(doc.get("workflow") or {}).get("name") or run.get("name") or None,
        workflow_id=run.get("workflow_id"),
        attempt=run.get("run_attempt") or 1,
        queued_s=_duration(created, started),
        head_sha=run.get("head_sha"),
        head_branch=run.get("head_branch"),
        trigger=run.get("event"),
        repository=require(doc, "repository.full_name"),
    )
    return [signal], None


def _check_run(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    action = doc.get("action")
    if action != "completed":
        return [], f"check_run action '{action}' is not used (only 'completed')"
    run = require(doc, "check_run")
    signal = _build(
        "check_run",
        require(doc, "check_run.id"),
        require(doc, "check_run.conclusion"),
        optional_time(run.get("started_at")),
        parse_time(run.get("completed_at"), "check_run.completed_at"),
        name=run.get("name"),
        app=(run.get("app") or {}).get("slug"),
        head_sha=run.get("head_sha"),
        head_branch=(run.get("check_suite") or {}).get("head_branch"),
        repository=require(doc, "repository.full_name"),
    )
    return [signal], None


def _pull_request(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    action = doc.get("action")
    reviews = github_reviews.pull_request(doc)  # security review requests (github_reviews.py)
    if action != "closed":
        why = f"pull_request action '{action}' is not used (only 'closed' with a merge, security reviews)"
        return reviews, None if reviews else why
    pr = require(doc, "pull_request")
    if not pr.get("merged"):
        return reviews, None if reviews else "pull request was closed without being merged"
    repo = require(doc, "repository.full_name")
    created = parse_time(pr.get("created_at"), "pull_request.created_at")
    merged = parse_time(pr.get("merged_at"), "pull_request.merged_at")
    attrs = {
        "number": require(doc, "pull_request.number"),
        "pull_request_id": pr.get("id"),
        "created_at": created.isoformat(),
        "merged_at": merged.isoformat(),
        "open_to_merge_s": _duration(created, merged),
        "merge_commit_sha": pr.get("merge_commit_sha"),
        "head_sha": (pr.get("head") or {}).get("sha"),
        "head_ref": (pr.get("head") or {}).get("ref"),  # the branch: its pushed commits are the PR's
        "base_ref": (pr.get("base") or {}).get("ref"),
        "author": (pr.get("user") or {}).get("login"),
        "merged_by": (pr.get("merged_by") or {}).get("login"),
        "commits": pr.get("commits"),
        "additions": pr.get("additions"),
        "deletions": pr.get("deletions"),
        "changed_files": pr.get("changed_files"),
        "repository": repo,
    }
    return [Signal("change", merged, repo, attrs, key=f"pr:{attrs['number']}"), *reviews], None


def _pull_request_review(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    signals = github_reviews.pull_request_review(doc)
    return signals, None if signals else "only submitted approvals / change requests are used"


def _push(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    repo = require(doc, "repository.full_name")
    ref = require(doc, "ref")
    commits = doc.get("commits") or []
    if not isinstance(commits, list):
        raise InvalidPayload("field 'commits' must be a list", details={"path": "commits"})
    if not commits:
        return [], "push without commits (branch deleted or tag)"
    signals = []
    for i, commit in enumerate(commits):
        path = f"commits.{i}"
        sha = require(doc, f"{path}.id")
        at = parse_time(commit.get("timestamp"), f"{path}.timestamp")
        attrs = {
            "sha": sha,
            "committed_at": at.isoformat(),
            "ref": ref,
            "branch": ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None,
            "distinct": commit.get("distinct"),
            "author": (commit.get("author") or {}).get("username"),
            "pushed_after": doc.get("before"),  # the push's before/after: its GitHub compare link
            "push_head": doc.get("after"),
            "repository_url": (doc.get("repository") or {}).get("html_url"),
            "forced": doc.get("forced"),
            "repository": repo,
        }
        signals.append(Signal("commit", at, repo, attrs, key=sha))
    return signals, None


def _ping(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    require(doc, "hook_id")
    return [], "ping acknowledged"


_PARSERS: dict[str, Callable[[dict[str, Any]], tuple[list[Signal], str | None]]] = {
    "deployment": _deployment,
    "deployment_status": _deployment_status,
    "workflow_run": _workflow_run,
    "check_run": _check_run,
    "pull_request": _pull_request,
    "pull_request_review": _pull_request_review,
    "push": _push,
    "issues": github_postmortems.issues,  # postmortems (issues labelled `postmortem`)
    "ping": _ping,
}
