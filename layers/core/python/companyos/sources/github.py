"""GitHub webhooks (`X-Hub-Signature-256`, event name in `X-GitHub-Event`, id in `X-GitHub-Delivery`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from companyos.errors import SignatureInvalid
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    any_signature_matches,
    content_id,
    load_json,
    parse_time,
    require,
)

FINAL_DEPLOY_STATES = {"success": True, "failure": False, "error": False}


class GitHubSource:
    name = "github"
    retention_days = 400  # engineering signals feed 365-day windows

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header("X-Hub-Signature-256")
        if not header or not header.startswith("sha256="):
            raise SignatureInvalid(
                "missing or malformed X-Hub-Signature-256 header", code="signature_missing"
            )
        any_signature_matches([header.removeprefix("sha256=")], secrets, request.body)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        event = request.header("X-GitHub-Event") or ""
        delivery_id = request.header("X-GitHub-Delivery") or content_id(request.body)
        doc = load_json(request.body)
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
    return [Signal("deployment", occurred, repo, attrs, key=str(attrs["status_id"]))], None


def _ping(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    require(doc, "hook_id")
    return [], "ping acknowledged"


_PARSERS: dict[str, Callable[[dict[str, Any]], tuple[list[Signal], str | None]]] = {
    "deployment_status": _deployment_status,
    "ping": _ping,
}
