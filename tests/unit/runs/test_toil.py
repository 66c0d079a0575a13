"""toil_ratio (runs/formulas_toil.py): toil hours / ops hours by the tenant's rule, entries counted
once across uploads, PagerDuty acknowledged -> resolved time where the tenant opts in; the rows by
category and team. Entries are parsed from the real Toggl sample of test_sources_time_tracking.py
(7pairs/toggl2html, toggl2html/tests/in/test_read_file_01.csv) and hand-written signal rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from companyos.runs import contracts, formulas, rows
from companyos.runs.formulas import SignalRow
from companyos.sources import registry

from tests.unit.sources.helpers import request
from tests.unit.sources.test_sources_time_tracking import TOGGL_CSV

NOW = datetime(2014, 6, 30, 12, 0, tzinfo=UTC)


def _rows_of(body: bytes, delivery: str) -> list[SignalRow]:
    parsed = registry.get("time_tracking").parse(request(body))
    return [
        SignalRow(s.kind, f"{delivery}-{i}", s.occurred_at, s.attributes, source="time_tracking")
        for i, s in enumerate(parsed.signals)
    ]


def _entry(day: date, hours: float, project: str, tags: list[str], n: int, client: str | None = None):
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    attrs = {
        "entry_id": f"e{n}",
        "duration_s": hours * 3600,
        "project": project,
        "tags": tags,
        "client": client,
    }
    return SignalRow("ops_time", f"s{n}", at, attrs, source="time_tracking")


def _incident(iid: str, transition: str, at: datetime, team: str = "Platform") -> SignalRow:
    attrs = {"incident_id": iid, "transition": transition, "occurred_at": at.isoformat(), "teams": [team]}
    return SignalRow("incident", f"{iid}-{transition}", at, attrs, source="pagerduty")


def _value(signals, params=None, days: int = 7):
    base = contracts.get("toil_ratio")
    builtin = formulas.BUILTINS["toil_ratio"]
    daily, _ = formulas.accumulate(builtin.fold(signals, {**base.params, **(params or {})}))
    return builtin.value(daily, NOW.date(), days)


def test_the_real_toggl_export_by_a_project_rule_and_counted_once_across_uploads():
    first = _rows_of(TOGGL_CSV.encode(), "d1")
    second = _rows_of(TOGGL_CSV.encode(), "d2")  # the same export uploaded again (another delivery)
    out = _value({"ops_time": first + second}, {"toil_projects": ["生活"]}, days=28)
    assert out.value == pytest.approx(100.0 * 8 / (8 + 12))  # 生活 8 h of 20 h, each entry once
    assert out.detail == {"toil_hours": 8.0, "ops_hours": 20.0, "interrupt_hours": 0.0}
    assert _value({"ops_time": first}, days=28).value == 0.0  # default rule: no toil tag, no toil project


def test_tags_projects_and_the_ops_scope():
    d = date(2014, 6, 28)
    entries = [
        _entry(d, 2, "Ops", ["Manual"], 1),
        _entry(d, 1, "Ops", ["interrupt", "db"], 2),
        _entry(d, 3, "Ops", [], 3),
        _entry(d, 4, "Website", [], 4),  # feature work
        _entry(d - timedelta(days=10), 5, "Ops", ["toil"], 5),  # outside the 7 days
    ]
    assert _value({"ops_time": entries}).value == pytest.approx(100.0 * 3 / 10)
    scoped = _value({"ops_time": entries}, {"ops_projects": ["ops"]})  # case-insensitive
    assert scoped.value == pytest.approx(100.0 * 3 / 6)
    assert _value({"ops_time": entries}, {"toil_tags": ["db"]}).value == pytest.approx(100.0 * 1 / 10)
    assert _value({"ops_time": entries}, days=28).value == pytest.approx(100.0 * 8 / 15)


def test_pagerduty_interrupts_count_only_where_the_tenant_opts_in():
    d = date(2014, 6, 28)
    t0 = datetime(2014, 6, 28, 3, 0, tzinfo=UTC)
    incidents = [
        _incident("P1", "triggered", t0),
        _incident("P1", "acknowledged", t0 + timedelta(minutes=10)),
        _incident("P1", "acknowledged", t0 + timedelta(minutes=40)),  # re-acknowledged: first counts
        _incident("P1", "resolved", t0 + timedelta(hours=2, minutes=10)),
        _incident("P2", "triggered", t0),  # never acknowledged: no interrupt time
        _incident("P2", "resolved", t0 + timedelta(hours=1)),
    ]
    signals = {
        "ops_time": [_entry(d, 6, "Ops", [], 1), _entry(d, 2, "Ops", ["toil"], 2)],
        "incident": incidents,
    }
    assert _value(signals).value == pytest.approx(100.0 * 2 / 8)  # default: not opted in
    opted = _value(signals, {"pagerduty_interrupts": True})
    assert opted.value == pytest.approx(100.0 * (2 + 2) / (8 + 2))
    assert opted.detail is not None and opted.detail["interrupt_hours"] == 2.0


def test_no_ops_time_is_unknown_with_the_reason():
    out = _value({"ops_time": []})
    assert out.value is None and out.reason == "no ops time tracked in the last 7 days"


def test_the_rows_by_category_and_team():
    d = date(2014, 6, 28)
    t0 = datetime(2014, 6, 28, 3, 0, tzinfo=UTC)
    signals = {
        "ops_time": [
            _entry(d, 2, "Ops", ["manual"], 1, client="SRE"),
            _entry(d, 6, "Ops", [], 2, client="SRE"),
            _entry(d, 1, "Billing", ["toil"], 3),
        ],
        "incident": [
            _incident("P1", "acknowledged", t0),
            _incident("P1", "resolved", t0 + timedelta(hours=1)),
        ],
    }
    params = {
        **contracts.get("toil_ratio").params,
        "pagerduty_interrupts": True,
        "teams": {"Billing": "Payments"},
    }
    build = rows.builder("toil_ratio")
    assert build is not None
    entry = build(signals, rows.RowsContext("t", NOW, params), 7)["toil"]
    assert entry["available"] and entry["ops_hours"] == 10.0 and entry["toil_hours"] == 4.0
    cats = {c["id"]: (c["hours"], c["toil_hours"]) for c in entry["by_category"]}
    assert cats == {"other ops work": (6.0, 0.0), "tag: manual": (2.0, 2.0), "tag: toil": (1.0, 1.0),
                    "PagerDuty interrupts": (1.0, 1.0)}  # fmt: skip
    teams = {t["id"]: (t["hours"], t["toil_pct"]) for t in entry["by_team"]}
    assert teams == {"SRE": (8.0, 25.0), "Payments": (1.0, 100.0), "Platform": (1.0, 100.0)}
    objects = {s["object"]: s["count"] for s in entry["evidence"]["sources"]}
    assert objects == {"time_tracking.ops_time": 3, "pagerduty.incident": 2}
    none = build({}, rows.RowsContext("t", NOW, params), 7)["toil"]
    assert none == {"available": False, "reason": "no ops time tracked in the last 7 days"}
