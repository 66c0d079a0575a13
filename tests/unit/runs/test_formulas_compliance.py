"""compliance_score and its rows over Prowler reports: the real OCSF and ASFF examples of
shared/fixtures/real/prowler/, and day-later copies of the OCSF one with some checks changed.

Expected numbers are counted here straight from the JSON (a control passes when all of its
PASS/FAIL checks pass; MANUAL ones do not decide), not with the formula's helpers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from companyos.runs import formulas, rows
from companyos.runs.formula_base import SignalRow, accumulate
from companyos.runs.rows import RowsContext
from companyos.sources import registry
from companyos.sources.base import WebhookRequest

from tests.conftest import real_fixture

OCSF = "prowler/example_output_aws.ocsf.json"
ASFF = "prowler/docs-reporting-example.asff.json"
PARAMS = {"max_report_age_days": 30, "frameworks": []}


def signal_rows(body: bytes, source: str = "prowler") -> list[SignalRow]:
    parsed = registry.get(source).parse(WebhookRequest({}, body))
    return [
        SignalRow(
            s.kind,
            f"{parsed.delivery_id}-{i}",
            s.occurred_at,
            s.attributes,
            s.entity,
            None,
            source,
            parsed.delivery_id,
        )
        for i, s in enumerate(parsed.signals)
    ]


def ocsf_day(days_later: int, passing: set[str] = frozenset()) -> tuple[list[dict], bytes]:
    """The OCSF example, `days_later` days on, with the named checks passing."""
    doc = json.loads(real_fixture(OCSF))
    for f in doc:
        f["time"] += days_later * 86400
        if f["metadata"]["event_code"] in passing:
            f["status_code"] = "PASS"
    return doc, json.dumps(doc).encode()


def expected(*docs: list[dict]) -> tuple[int, int]:
    """(evaluated controls, passing) over OCSF findings, counted by hand."""
    statuses: dict[tuple[str, str], list[str]] = {}
    for doc in docs:
        for f in doc:
            for fw, ids in f["unmapped"]["compliance"].items():
                for cid in ids:
                    statuses.setdefault((fw, cid), []).append(f["status_code"])
    deciding = {k: [s for s in v if s in ("PASS", "FAIL")] for k, v in statuses.items()}
    evaluated = {k: v for k, v in deciding.items() if v}
    return len(evaluated), sum(1 for v in evaluated.values() if all(s == "PASS" for s in v))


def value(signals: list[SignalRow], end: date, params=PARAMS):
    b = formulas.BUILTINS["compliance_score"]
    buckets, _ = accumulate(b.fold({"compliance_check": signals}, params))
    return b.value(buckets, end, 7)


def test_the_real_example_report_scores_its_failing_controls():
    doc, body = ocsf_day(0)
    controls, passing = expected(doc)
    assert controls > 0 and passing == 0  # the example has FAIL and MANUAL results only
    out = value(signal_rows(body), date(2025, 2, 14))
    assert out.value == 0.0 and out.detail == {"controls": controls, "passing": passing, "reports": 1}


def test_the_newest_report_of_a_scope_replaces_the_older_one():
    day0, body0 = ocsf_day(0)
    day1, body1 = ocsf_day(1, {"accessanalyzer_enabled"})
    signals = signal_rows(body0) + signal_rows(body1)
    c0, p0 = expected(day0)
    c1, p1 = expected(day1)  # day 1 alone: the day-0 report no longer counts
    assert p1 > p0
    assert value(signals, date(2025, 2, 14)).value == 100.0 * p0 / c0
    assert value(signals, date(2025, 2, 15)).value == 100.0 * p1 / c1
    # a report arriving late for an earlier day changes nothing after its successor
    assert value(list(reversed(signals)), date(2025, 2, 15)).value == 100.0 * p1 / c1


def test_scopes_add_up_and_a_stale_scope_stops_counting():
    doc, body = ocsf_day(0)
    (asff,) = json.loads(real_fixture(ASFF))  # another account (ACCOUNT_ID), Dec 2022, PASSED
    signals = signal_rows(body) + signal_rows(real_fixture(ASFF))
    c, p = expected(doc)
    asff_controls = sum(len(r.split()[1:]) for r in asff["Compliance"]["RelatedRequirements"])
    on_time = value(signals, date(2025, 2, 14), {**PARAMS, "max_report_age_days": 1000})
    assert on_time.detail["controls"] == c + asff_controls and on_time.detail["passing"] == p + asff_controls
    assert value(signals, date(2025, 2, 14)).detail["controls"] == c  # the 2022 report is too old


def test_no_report_in_force_is_unknown_with_the_reason():
    _, body = ocsf_day(0)
    out = value(signal_rows(body), date(2025, 4, 1))  # 46 days after the only report
    assert out.value is None and "no compliance report in force" in (out.reason or "")


def test_frameworks_param_restricts_the_score():
    doc, body = ocsf_day(1, {"accessanalyzer_enabled"})
    only = [f for f in doc if "CIS-3.0" in f["unmapped"]["compliance"]]
    for f in only:
        f["unmapped"]["compliance"] = {"CIS-3.0": f["unmapped"]["compliance"]["CIS-3.0"]}
    c, p = expected(only)
    out = value(signal_rows(body), date(2025, 2, 15), {**PARAMS, "frameworks": ["CIS-3.0"]})
    assert (out.detail["controls"], out.detail["passing"]) == (c, p) and out.value == 100.0 * p / c


def test_rows_give_framework_rates_chips_failing_checks_and_history():
    day0, body0 = ocsf_day(0)
    day1, body1 = ocsf_day(1, {"accessanalyzer_enabled"})
    signals = {"compliance_check": signal_rows(body0) + signal_rows(body1)}
    ctx = RowsContext("acme", datetime(2025, 2, 15, 12, tzinfo=UTC), PARAMS)
    entry = rows.builder("compliance_score")(signals, ctx, 7)["compliance"]
    c1, p1 = expected(day1)
    assert entry["available"] and (entry["controls"], entry["passing"]) == (c1, p1)
    kisa = next(f for f in entry["items"] if f["id"] == "KISA-ISMS-P-2023")
    # KISA 2.1.3 is mapped by the still-failing contact-details check
    assert kisa["chips"][0] == {"control_id": "2.1.3", "status": "fail", "failing_checks": 1}
    cis = next(f for f in entry["items"] if f["id"] == "CIS-3.0")
    assert cis["pass_rate"] == 100.0 and cis["chips"] == [
        {"control_id": "1.20", "status": "pass", "failing_checks": 0},
        *cis["chips"][1:],
    ]
    assert entry["history"]["CIS-3.0"] == [["2025-02-14", 1, 0], ["2025-02-15", 1, 1]]
    (control,) = [
        c
        for c in entry["failing_controls"]
        if c["framework"] == "KISA-ISMS-P-2023" and c["control_id"] == "2.1.3"
    ]
    # failing since the first report: both reports fail it
    first = datetime.fromtimestamp(min(f["time"] for f in day0), UTC)
    assert control["first_seen"] == first.isoformat() and control["resources"] == 1
    assert control["href"] == "/api/drill/compliance/KISA-ISMS-P-2023/2.1.3?tenant=acme"
    assert entry["evidence"]["sources"][0]["object"] == "prowler.compliance_check"
    assert first + timedelta(days=1) == datetime.fromisoformat(entry["reports"][0]["taken_at"])
