"""Security review requests from GitHub pull request events (`security_review` signals).

A pull request waits for a security review when a review is requested from a security team (the
team's slug or name matches `SECURITY_TEAM`: security, appsec, infosec, secops, ...) or a label
matching `SECURITY_LABEL` (e.g. `security-review`) is set. It stops waiting when:

* team requests: the request is removed (`review_request_removed`), or a review is submitted
  (approved / changes requested, transition `reviewed`) and the team is no longer among the PR's
  requested teams (GitHub removes a team once one of its members reviews);
* label requests: the label is removed (`unlabeled`);
* either: the pull request is closed.

Each change is one signal with `transition` requested / cleared / reviewed; the reviews panel folds them
(views/panels_data.py) into the pending reviews with age, requester and link.
"""

from __future__ import annotations

import re
from typing import Any

from companyos.sources.base import Signal, optional_time, parse_time, require

KIND = "security_review"
SECURITY_TEAM = re.compile(r"security|appsec|infosec|secops|prodsec", re.IGNORECASE)
SECURITY_LABEL = re.compile(r"security", re.IGNORECASE)


def _team_via(team: Any) -> str | None:
    if not isinstance(team, dict):
        return None
    name = f"{team.get('slug') or ''} {team.get('name') or ''}"
    return f"team:{team.get('slug') or team.get('name')}" if SECURITY_TEAM.search(name) else None


def _label_via(label: Any) -> str | None:
    name = str((label or {}).get("name") or "") if isinstance(label, dict) else ""
    return f"label:{name}" if name and SECURITY_LABEL.search(name) else None


def _vias(pr: dict[str, Any]) -> list[str]:
    """The security requests a pull request carries right now (its requested teams and labels)."""
    found = [_team_via(t) for t in pr.get("requested_teams") or []]
    found += [_label_via(lb) for lb in pr.get("labels") or []]
    return sorted({v for v in found if v})


def _signal(doc: dict[str, Any], via: str, transition: str, reason: str, at: Any) -> Signal:
    pr = require(doc, "pull_request")
    repo = require(doc, "repository.full_name")
    number = require(doc, "pull_request.number")
    attrs = {
        "repository": repo,
        "number": number,
        "title": pr.get("title"),
        "url": pr.get("html_url"),
        "author": (pr.get("user") or {}).get("login"),
        "requester": (doc.get("sender") or {}).get("login"),
        "via": via,
        "transition": transition,
        "reason": reason,
        "review_state": (doc.get("review") or {}).get("state"),
    }
    return Signal(KIND, at, repo, attrs, key=f"{repo}#{number}:{via}:{transition}:{at.isoformat()}")


def _updated(doc: dict[str, Any]) -> Any:
    """The event's time: GitHub sends none for review requests and labels; the PR's updated_at is
    the change it reports."""
    return parse_time(require(doc, "pull_request.updated_at"), "pull_request.updated_at")


def pull_request(doc: dict[str, Any]) -> list[Signal]:
    """Security review transitions of a `pull_request` event (none for unrelated actions)."""
    action = doc.get("action")
    if action in ("review_requested", "review_request_removed"):
        via = _team_via(doc.get("requested_team"))
        if via is None:
            return []
        if action == "review_requested":
            return [_signal(doc, via, "requested", "review requested", _updated(doc))]
        return [_signal(doc, via, "cleared", "review request removed", _updated(doc))]
    if action in ("labeled", "unlabeled"):
        via = _label_via(doc.get("label"))
        if via is None:
            return []
        if action == "labeled":
            return [_signal(doc, via, "requested", "label set", _updated(doc))]
        return [_signal(doc, via, "cleared", "label removed", _updated(doc))]
    if action == "closed":
        pr = require(doc, "pull_request")
        at = optional_time(pr.get("closed_at")) or _updated(doc)
        return [_signal(doc, via, "cleared", "pull request closed", at) for via in _vias(pr)]
    return []


def pull_request_review(doc: dict[str, Any]) -> list[Signal]:
    """A submitted approval / change request: the security teams GitHub still lists as requested
    (`still_requested`); the fold clears every pending team request of the PR not among them.
    Which team was asked is not in the event, so every such review is recorded."""
    if doc.get("action") != "submitted":
        return []
    state = str(require(doc, "review.state")).lower()
    if state not in ("approved", "changes_requested"):
        return []
    at = parse_time(require(doc, "review.submitted_at"), "review.submitted_at")
    signal = _signal(doc, "team:*", "reviewed", f"review {state}", at)
    still = [v for v in _vias(require(doc, "pull_request")) if v.startswith("team:")]
    signal.attributes["still_requested"] = still
    signal.attributes["requester"] = None  # the sender of a review is the reviewer
    signal.attributes["reviewer"] = (doc.get("sender") or {}).get("login")
    return [signal]
