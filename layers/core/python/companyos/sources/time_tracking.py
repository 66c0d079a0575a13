"""Time-tracking exports uploaded by the tenant (`POST /api/ingest/time_tracking`), the input of
`toil_ratio`: a Toggl Track *Detailed report* CSV export, or Jira issues with their worklogs (the
REST API's `GET /rest/api/2/search?fields=project,labels,worklog` answer, or one issue).

Signed like our own formats (`X-CompanyOS-Signature: sha256=<hex>` with the tenant's
`time_tracking` secret); the delivery id is `X-CompanyOS-Delivery` or the body's content hash, so
uploading the same export twice stores it once. Each time entry becomes one `ops_time` signal with a
stable `entry_id` (Jira: the worklog id; Toggl's CSV has none: a digest of user, start, end, project
and description), so an entry in two overlapping exports is counted once by the formula.

What is kept of an entry: who (display name or e-mail), project, client / issue key, tags / labels
(lower-cased), start, end and duration. Descriptions and comments are not kept (free text).
Whether an entry is toil is decided by the KPI run, by the tenant's rule (runs/formulas_toil.py),
not here: changing the rule re-classifies the history.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from companyos.domain.errors import InvalidPayload, MalformedBody, PayloadTooLarge
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    load_json,
    own_delivery_id,
    parse_time,
    short_hash,
    verify_companyos_signature,
)

KIND = "ops_time"
MAX_ENTRIES = 20_000  # one export: more is split into several uploads (413 with a code)
TOGGL_COLUMNS = ("User", "Project", "Start date", "Start time", "End date", "End time", "Duration")


def _bad(message: str, path: str, code: str = "invalid_time_entry") -> InvalidPayload:
    return InvalidPayload(message, code=code, details={"path": path})


def _too_many(n: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the export has {n} time entries, more than {MAX_ENTRIES}: upload it in parts",
        code="too_many_entries",
    )


def _tags(raw: str) -> list[str]:
    return sorted({t.strip().lower() for t in raw.split(",") if t.strip()})


def _toggl_duration(raw: str, path: str) -> float:
    parts = raw.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise _bad(f"'{path}' must be a duration HH:MM:SS, not '{raw[:20]}'", path)
    h, m, s = (int(p) for p in parts)
    return float(h * 3600 + m * 60 + s)


def _toggl_time(day: str, clock: str, path: str) -> datetime:
    """Toggl writes local wall time without an offset (and days unpadded: `2016-01-1`): read as UTC."""
    try:
        return datetime.strptime(f"{day.strip()} {clock.strip()}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise _bad(f"'{path}' is not a date and time (YYYY-MM-DD, HH:MM:SS)", path) from exc


def _toggl_entry(row: dict[str, str], n: int) -> Signal:
    at = f"rows.{n}"
    start = _toggl_time(row["Start date"], row["Start time"], f"{at}.Start date")
    end = _toggl_time(row["End date"], row["End time"], f"{at}.End date")
    duration = _toggl_duration(row["Duration"], f"{at}.Duration")
    user = (row.get("Email") or row.get("User") or "").strip()
    project = (row.get("Project") or "").strip()
    entry_id = "toggl-" + short_hash(
        user, start.isoformat(), end.isoformat(), project, row.get("Description")
    )
    attrs: dict[str, Any] = {
        "entry_id": entry_id,
        "format": "toggl_csv",
        "user": (row.get("User") or "").strip() or user,
        "project": project or None,
        "client": (row.get("Client") or "").strip() or None,
        "task": (row.get("Task") or "").strip() or None,
        "tags": _tags(row.get("Tags") or ""),
        "billable": (row.get("Billable") or "").strip().lower() in ("yes", "true"),
        "started_at": start.isoformat(),
        "ended_at": end.isoformat(),
        "duration_s": duration,
    }
    return Signal(KIND, start, None, attrs, key=entry_id)


def parse_toggl_csv(body: bytes) -> list[Signal]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the CSV export is not UTF-8: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in TOGGL_COLUMNS if c not in header]
    if missing:
        raise _bad(
            "not a Toggl Track detailed report CSV: missing column(s) " + ", ".join(missing),
            "header",
            code="unknown_time_format",
        )
    reader.fieldnames = header
    out: list[Signal] = []
    try:
        for n, row in enumerate(reader):
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # a blank line
            if len(out) >= MAX_ENTRIES:
                raise _too_many(len(out) + 1)
            out.append(_toggl_entry({k: v if isinstance(v, str) else "" for k, v in row.items()}, n))
    except csv.Error as exc:
        raise MalformedBody(f"the CSV export cannot be read: {exc}") from exc
    return out


def _jira_worklog(issue: dict[str, Any], wl: Any, at: str) -> Signal:
    if not isinstance(wl, dict):
        raise _bad(f"'{at}' must be a worklog object", at)
    seconds = wl.get("timeSpentSeconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise _bad(f"'{at}.timeSpentSeconds' must be a number of seconds", f"{at}.timeSpentSeconds")
    started = parse_time(wl.get("started"), f"{at}.started")
    fields: dict[str, Any] = issue.get("fields") or {}
    project: dict[str, Any] = fields["project"] if isinstance(fields.get("project"), dict) else {}
    author: dict[str, Any] = wl["author"] if isinstance(wl.get("author"), dict) else {}
    labels: list[Any] = fields["labels"] if isinstance(fields.get("labels"), list) else []
    key = str(issue.get("key") or "")
    wl_id = str(wl.get("id") or short_hash(key, started.isoformat(), seconds))
    attrs: dict[str, Any] = {
        "entry_id": f"jira-{wl_id}",
        "format": "jira_worklog",
        "user": author.get("displayName") or author.get("name") or author.get("accountId"),
        "project": project.get("key") or project.get("name") or (key.split("-")[0] if "-" in key else None),
        "client": None,
        "task": key or None,
        "tags": sorted({str(label).strip().lower() for label in labels if str(label).strip()}),
        "billable": None,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(seconds=float(seconds))).isoformat(),
        "duration_s": float(seconds),
    }
    return Signal(KIND, started, None, attrs, key=f"jira-{wl_id}")


def parse_jira(doc: Any) -> list[Signal]:
    if isinstance(doc, dict) and isinstance(doc.get("issues"), list):
        issues, base = doc["issues"], "issues"
    elif isinstance(doc, dict) and isinstance(doc.get("fields"), dict):
        issues, base = [doc], ""
    else:
        raise _bad(
            "not a Jira issue search answer ({issues: [...]}) nor an issue ({key, fields})",
            "",
            code="unknown_time_format",
        )
    out: list[Signal] = []
    for i, issue in enumerate(issues):
        at = f"{base}.{i}" if base else ""
        if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
            raise _bad(f"'{at or 'issue'}' must be an issue with its fields", at)
        worklog = issue["fields"].get("worklog")
        if worklog is None:
            continue  # an issue without time logged
        if not isinstance(worklog, dict) or not isinstance(worklog.get("worklogs"), list):
            raise _bad("'fields.worklog.worklogs' must be a list", f"{at}.fields.worklog".lstrip("."))
        for j, wl in enumerate(worklog["worklogs"]):
            if len(out) >= MAX_ENTRIES:
                raise _too_many(len(out) + 1)
            out.append(_jira_worklog(issue, wl, f"{at}.fields.worklog.worklogs.{j}".lstrip(".")))
    return out


class TimeTrackingSource:
    name = "time_tracking"
    retention_days = 400

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_companyos_signature(request, secrets)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        head = request.body.lstrip()[:1]
        if head in (b"{", b"["):
            signals, event = parse_jira(load_json(request.body)), "jira.worklogs"
        else:
            signals, event = parse_toggl_csv(request.body), "toggl.detailed_report"
        delivery_id = own_delivery_id(request)
        if not signals:
            return ParsedDelivery(event, delivery_id, ignored_reason="the export has no time entries")
        return ParsedDelivery(event, delivery_id, signals)
