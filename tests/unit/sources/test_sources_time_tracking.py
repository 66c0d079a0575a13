"""Time-tracking exports (sources/time_tracking.py): a Toggl Track detailed report CSV and Jira
issues with their worklogs, parsed from real samples written by others, and odd shapes refused.

Samples, copied verbatim (the files are small; no fixture of these formats is in shared/fixtures):

* TOGGL_CSV: github.com/7pairs/toggl2html, file toggl2html/tests/in/test_read_file_01.csv (commit
  c287f9890d9c965b903d41db9d6b2809f6079d86) — a Toggl detailed report export (Japanese UI: the
  Billable column says いいえ, "no"; empty Tags and an `Amount ()` column).
* JIRA_ISSUE: github.com/mattstates/jiramanagertool, file mockData/mockJiraIssue.ts (commit
  97af69f292ee170ffb713c73866d7ff4555a4861) — a Jira Server `GET /rest/api/2/issue/{key}` answer
  with `fields.worklog`; the worklog entry and its issue's id/key as written there (the avatar URLs,
  the update author and the changelog left out), turned from a JS literal into JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from companyos.domain.errors import InvalidPayload, MalformedBody, PayloadTooLarge
from companyos.sources import registry, time_tracking

from tests.unit.sources.helpers import request

TOGGL_CSV = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
    "Duration,Tags,Amount ()\n"
    "ちぃといつ,7pairs@gmail.com,第3領域,生活,,睡眠,いいえ,2014-06-23,00:00:00,2014-06-23,08:00:00,08:00:00,,\n"
    "ちぃといつ,7pairs@gmail.com,第4領域,娯楽,,クイズマジックアカデミー 天の学舎,いいえ,2014-06-23,10:00:00,"
    "2014-06-23,22:00:00,12:00:00,,\n"
)

JIRA_ISSUE = {
    "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
    "id": "103595",
    "self": "https://mycompany.com/rest/api/2/issue/103595",
    "key": "JIRAKEY-14384",
    "fields": {
        "timespent": 1800,
        "timeoriginalestimate": 1800,
        "worklog": {
            "startAt": 0,
            "maxResults": 20,
            "total": 1,
            "worklogs": [
                {
                    "self": "https://mycompany.com/rest/api/2/issue/103595/worklog/73479",
                    "author": {
                        "self": "https://mycompany.com/rest/api/2/user?username=mstates",
                        "name": "mstates",
                        "key": "mstates",
                        "emailAddress": "mstates@mycompany.com",
                        "displayName": "Matt States",
                        "active": True,
                        "timeZone": "America/Los_Angeles",
                    },
                    "comment": "",
                    "created": "2017-11-09T10:44:22.373-0800",
                    "updated": "2017-11-09T10:44:22.373-0800",
                    "started": "2017-11-09T10:02:00.000-0800",
                    "timeSpent": "30m",
                    "timeSpentSeconds": 1800,
                    "id": "73479",
                    "issueId": "103595",
                }
            ],
        },
    },
}


def parse(body: bytes, **headers: str):
    return registry.get("time_tracking").parse(request(body, **headers))


def test_a_toggl_detailed_report_csv_becomes_one_entry_per_row():
    parsed = parse(TOGGL_CSV.encode())
    assert parsed.event == "toggl.detailed_report" and len(parsed.signals) == 2
    sleep, game = parsed.signals
    assert sleep.kind == "ops_time" and sleep.occurred_at == datetime(2014, 6, 23, 0, 0, tzinfo=UTC)
    assert sleep.attributes["duration_s"] == 8 * 3600 and game.attributes["duration_s"] == 12 * 3600
    assert sleep.attributes["project"] == "生活" and sleep.attributes["client"] == "第3領域"
    assert sleep.attributes["user"] == "ちぃといつ" and sleep.attributes["tags"] == []
    assert (
        sleep.attributes["billable"] is False and sleep.attributes["ended_at"] == "2014-06-23T08:00:00+00:00"
    )
    assert "description" not in sleep.attributes  # free text is not kept
    assert sleep.attributes["entry_id"] != game.attributes["entry_id"]
    # the same rows in another export (other delivery) keep their entry ids: counted once
    again = parse(("\ufeff" + TOGGL_CSV).encode())  # Toggl's BOM
    assert [s.attributes["entry_id"] for s in again.signals] == [
        s.attributes["entry_id"] for s in parsed.signals
    ]


def test_the_delivery_id_is_the_sender_id_or_the_content_hash():
    assert parse(TOGGL_CSV.encode()).delivery_id == parse(TOGGL_CSV.encode()).delivery_id
    assert parse(TOGGL_CSV.encode(), X_CompanyOS_Delivery="week-24").delivery_id == "week-24"


def test_a_jira_issue_with_its_worklogs():
    parsed = parse(json.dumps(JIRA_ISSUE).encode())
    (s,) = parsed.signals
    assert parsed.event == "jira.worklogs"
    started = datetime(2017, 11, 9, 10, 2, tzinfo=timezone(timedelta(hours=-8)))
    assert s.occurred_at == started and s.attributes["duration_s"] == 1800.0
    assert s.attributes["entry_id"] == "jira-73479" and s.attributes["task"] == "JIRAKEY-14384"
    assert s.attributes["project"] == "JIRAKEY" and s.attributes["user"] == "Matt States"
    assert s.attributes["ended_at"] == (started + timedelta(minutes=30)).isoformat()
    # a search answer with the same issue, labels and project added
    issue = json.loads(json.dumps(JIRA_ISSUE))
    issue["fields"] |= {"labels": ["Toil", "oncall"], "project": {"key": "OPS", "name": "Operations"}}
    (s,) = parse(json.dumps({"issues": [issue], "total": 1}).encode()).signals
    assert s.attributes["tags"] == ["oncall", "toil"] and s.attributes["project"] == "OPS"


@pytest.mark.parametrize(
    ("body", "code", "path"),
    [
        (b"Name,Hours\nx,1\n", "unknown_time_format", "header"),
        (TOGGL_CSV.replace("08:00:00,,", "8h,,").encode(), "invalid_time_entry", "rows.0.Duration"),
        (TOGGL_CSV.replace("2014-06-23,00:00:00", "23/06/2014,00:00:00").encode(), "invalid_time_entry",
         "rows.0.Start date"),
        (b'{"worklogs": []}', "unknown_time_format", ""),
        (b'{"issues": [42]}', "invalid_time_entry", "issues.0"),
        (json.dumps({"key": "A-1", "fields": {"worklog": {"worklogs": [{"started": "x",
         "timeSpentSeconds": 1}]}}}).encode(), "invalid_payload", "fields.worklog.worklogs.0.started"),
        (json.dumps({"key": "A-1", "fields": {"worklog": {"worklogs": [{"started": "2017-11-09T10:02:00Z",
         "timeSpentSeconds": "30m"}]}}}).encode(), "invalid_time_entry",
         "fields.worklog.worklogs.0.timeSpentSeconds"),
    ],
)  # fmt: skip
def test_odd_shapes_are_refused_with_a_code_and_the_path(body, code, path):
    with pytest.raises(InvalidPayload) as err:
        parse(body)
    assert err.value.code == code and err.value.details["path"] == path and err.value.status == 422


def test_unreadable_bodies_and_oversized_exports():
    with pytest.raises(MalformedBody):
        parse(b"\xff\xfe not utf-8")
    with pytest.raises(MalformedBody):
        parse(b"{not json")
    header = TOGGL_CSV.splitlines()[0]
    row = TOGGL_CSV.splitlines()[1]
    big = "\n".join([header] + [row] * (time_tracking.MAX_ENTRIES + 1)).encode()
    with pytest.raises(PayloadTooLarge) as err:
        parse(big)
    assert err.value.code == "too_many_entries" and err.value.status == 413
    assert parse((header + "\n").encode()).ignored_reason == "the export has no time entries"
