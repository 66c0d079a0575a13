"""Postmortems written as GitHub issues (`issues` webhook events → `postmortem` signals).

An issue is a postmortem while it carries a label matching `POSTMORTEM_LABEL` (`postmortem`,
`post-mortem`, `incident-review`, `type: postmortem`, ...). It names the incidents it reviews in
its title or body, as PagerDuty writes them: the incident's URL
(`https://<subdomain>.pagerduty.com/incidents/<ID>`) or its number (`PagerDuty #1234`,
`PD-1234`, `PagerDuty incident #1234`). A closed issue is a completed postmortem, an open one is
in progress.

Every event of such an issue (or one removing its label) is one signal with the issue's state at
that time; the incident rows of the mttr run (runs/rows_postmortems.py) fold them per issue, the
latest state winning, into the postmortem each incident has. Events of other issues are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from companyos.domain.errors import InvalidPayload
from companyos.sources.base import Signal, optional_time, parse_time, require

KIND = "postmortem"
POSTMORTEM_LABEL = re.compile(r"post[-_ ]?mortem|incident[-_ ]review", re.IGNORECASE)
INCIDENT_URL = re.compile(r"https://[a-z0-9-]+(?:\.eu)?\.pagerduty\.com/incidents/([A-Za-z0-9]+)")
INCIDENT_NUMBER = re.compile(r"\b(?:pagerduty(?:\s+incident)?\s*#|PD-)(\d{1,9})\b", re.IGNORECASE)
MAX_TEXT = 65536  # GitHub's own limit on an issue body


def _is_postmortem_label(label: Any) -> bool:
    return isinstance(label, dict) and bool(POSTMORTEM_LABEL.search(str(label.get("name") or "")))


def references(text: str) -> tuple[list[str], list[int]]:
    """The PagerDuty incident ids (from incident URLs) and numbers a text names, in order, once each."""
    ids = list(dict.fromkeys(INCIDENT_URL.findall(text)))
    numbers = list(dict.fromkeys(int(n) for n in INCIDENT_NUMBER.findall(text)))
    return ids, numbers


def issues(doc: dict[str, Any]) -> tuple[list[Signal], str | None]:
    """The postmortem state an `issues` event reports (no signal for an issue that is no postmortem)."""
    action = str(require(doc, "action"))
    issue = require(doc, "issue")
    if not isinstance(issue, dict):
        raise InvalidPayload("field 'issue' must be an object", details={"path": "issue"})
    labels = issue.get("labels") or []
    if not isinstance(labels, list):
        raise InvalidPayload("field 'issue.labels' must be a list", details={"path": "issue.labels"})
    labelled = any(_is_postmortem_label(lb) for lb in labels)
    label_removed = action == "unlabeled" and _is_postmortem_label(doc.get("label"))
    if not labelled and not label_removed:
        return [], "the issue carries no postmortem label"
    repo = require(doc, "repository.full_name")
    if not isinstance(repo, str):
        raise InvalidPayload(
            "field 'repository.full_name' must be text", details={"path": "repository.full_name"}
        )
    number = require(doc, "issue.number")
    title, body = str(issue.get("title") or ""), str(issue.get("body") or "")
    ids, numbers = references(f"{title}\n{body[:MAX_TEXT]}")
    updated = parse_time(require(doc, "issue.updated_at"), "issue.updated_at")
    state = str(issue.get("state") or "open")
    active = labelled and action not in ("deleted", "transferred")
    attrs = {
        "repository": repo,
        "number": number,
        "title": title or None,
        "url": issue.get("html_url"),
        "action": action,
        "state": state,
        "active": active,  # False: no longer a postmortem here (label removed, deleted, moved)
        "completed": active and state == "closed",
        "closed_at": (optional_time(issue.get("closed_at")) or updated).isoformat()
        if state == "closed"
        else None,
        "incident_ids": ids,
        "incident_numbers": numbers,
        "author": user.get("login") if isinstance(user := issue.get("user"), dict) else None,
    }
    key = f"{repo}#{number}:{action}:{updated.isoformat()}"
    return [Signal(KIND, updated, repo, attrs, key=key, fact=True)], None
