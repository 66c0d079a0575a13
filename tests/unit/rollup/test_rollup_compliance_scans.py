"""The roll-up's compliance domain fed by a delivered compliance_score run: the rows' framework
history (runs/rows_compliance.py) stored in the inventory posture gives each scanned framework its
pass rate on every day, so a drop of more than five points in the period gets the red chevron.

Reports: copies of the real Prowler OCSF example (shared/fixtures/real/prowler/), taken 28 days ago
with `accessanalyzer_enabled` passing and today with it failing (the example's own status)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from companyos.domain import inventory as inv
from companyos.rollup.domains import build_domains
from companyos.runs import rows
from companyos.runs.formula_base import SignalRow
from companyos.runs.rows import RowsContext
from companyos.sources import registry
from companyos.sources.base import WebhookRequest

from tests.conftest import real_fixture
from tests.unit.rollup.conftest import NOW, TODAY, period, row, tenant

PARAMS = {"max_report_age_days": 30, "frameworks": []}


def report(days_ago: int, accessanalyzer: str) -> list[SignalRow]:
    doc = json.loads(real_fixture("prowler/example_output_aws.ocsf.json"))
    at = datetime.combine(TODAY - timedelta(days=days_ago), time(6), UTC)
    for f in doc:
        f["time"] = int(at.timestamp())
        if f["metadata"]["event_code"] == "accessanalyzer_enabled":
            f["status_code"] = accessanalyzer
    parsed = registry.get("prowler").parse(WebhookRequest({}, json.dumps(doc).encode()))
    return [
        SignalRow(
            s.kind,
            f"{parsed.delivery_id}{i}",
            s.occurred_at,
            s.attributes,
            s.entity,
            None,
            "prowler",
            parsed.delivery_id,
        )
        for i, s in enumerate(parsed.signals)
    ]


def scanned_posture() -> dict:
    signals = {"compliance_check": report(28, "PASS") + report(0, "FAIL")}
    entry = rows.builder("compliance_score")(signals, RowsContext("a", NOW, PARAMS), 28)["compliance"]
    scanned = {"run_id": "run-1", "as_of": entry["as_of"], "frameworks": entry["history"]}
    return inv.posture([], [], [], [], NOW, scanned)


def test_scanned_frameworks_have_values_and_a_drop_gets_the_red_chevron():
    compliance = next(
        d
        for d in build_domains([row(tenant("a"), post=scanned_posture())], period())
        if d["id"] == "compliance"
    )
    assert "CIS-3.0" in compliance["frameworks"] and compliance["reason"] is None
    (card,) = compliance["tenants"]
    cis = card["metrics"]["CIS-3.0"]
    # CIS-3.0's only deciding control is 1.20 (accessanalyzer_enabled): passing 28 days ago, failing now
    assert (cis["value"], cis["previous"], cis["delta"]) == (0.0, 100.0, -100.0)
    assert card["chevron"]["color"] == "red" and "CIS-3.0" in card["chevron"]["frameworks"]
    assert card["chevron"]["href"] == "/#/a/ciso?period=28d"  # scanned controls live on the CISO page
    # KISA: 2.1.3 fails in both reports, its four accessanalyzer controls passed 28 days ago: 80 % -> 0 %
    assert card["metrics"]["KISA-ISMS-P-2023"]["delta"] == -80.0
    # the chevron names exactly the frameworks accessanalyzer_enabled maps to (those dropped)
    doc = json.loads(real_fixture("prowler/example_output_aws.ocsf.json"))
    mapped = next(f for f in doc if f["metadata"]["event_code"] == "accessanalyzer_enabled")["unmapped"][
        "compliance"
    ]
    assert sorted(card["chevron"]["frameworks"]) == sorted(mapped)
    assert cis["status"] == "critical"  # judged on compliance_score's thresholds


def test_a_posture_without_a_scan_has_no_scanned_framework():
    assert inv.scanned_on(inv.posture([], [], [], [], NOW), TODAY) == {}
