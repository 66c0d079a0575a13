"""Catalog rules: change windows, pause scopes (what the scheduler asks), canary buckets, versions,
guardrails, optimistic locking, and the search index that patches itself from the revision log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

MONDAY_10 = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def test_change_window_opens_on_its_days_and_hours_only():
    from companyos.admin.catalog import ChangeWindow

    w = ChangeWindow(days=(0, 1), start="09:00", end="17:00")
    assert w.is_open(MONDAY_10)
    assert not w.is_open(MONDAY_10.replace(hour=18))
    assert not w.is_open(MONDAY_10 + timedelta(days=2))  # Wednesday
    assert w.next_open(MONDAY_10 + timedelta(days=2)) == "2024-03-11T09:00:00+00:00"
    assert ChangeWindow(days=tuple(range(7)), start="00:00", end="24:00").is_open(MONDAY_10.replace(hour=23))
    assert ChangeWindow(days=()).next_open(MONDAY_10) is None


def test_a_pause_covers_its_scope_only():
    from companyos.admin.catalog import Pause

    base: dict[str, Any] = {
        "pause_id": "p",
        "kpi_id": "k",
        "reason": "r",
        "created_by": "a",
        "created_at": "t",
    }
    glob = Pause(scope="global", **base)
    window = Pause(
        scope="window",
        starts_at=MONDAY_10.isoformat(),
        ends_at=(MONDAY_10 + timedelta(hours=2)).isoformat(),
        **base,
    )
    scoped = Pause(scope="entities", entities=("svc-a",), **base)
    assert glob.covers(MONDAY_10) and glob.covers(MONDAY_10, "svc-z")
    assert window.covers(MONDAY_10 + timedelta(hours=1)) and not window.covers(MONDAY_10 + timedelta(hours=2))
    assert not window.covers(MONDAY_10 - timedelta(seconds=1))
    assert scoped.covers(MONDAY_10, "svc-a") and not scoped.covers(MONDAY_10, "svc-b")
    assert not scoped.covers(MONDAY_10)  # an entity pause does not stop the KPI's run as a whole


def test_is_paused_reads_the_stored_scopes(aws):
    from companyos.admin import is_paused, maintenance, paused_kpis
    from companyos.admin.catalog import Pause, put_pause

    put_pause(
        "tp",
        Pause(
            "p1",
            "mttr",
            "window",
            "db migration",
            "a",
            "t",
            starts_at=MONDAY_10.isoformat(),
            ends_at=(MONDAY_10 + timedelta(hours=1)).isoformat(),
            eta="11:00 UTC",
        ),
    )
    put_pause("tp", Pause("p2", "nps_score", "entities", "vendor outage", "a", "t", entities=("eu",)))
    assert is_paused("tp", "mttr", MONDAY_10 + timedelta(minutes=5))
    assert not is_paused("tp", "mttr", MONDAY_10 + timedelta(hours=2))
    assert not is_paused("tp", "nps_score", MONDAY_10) and is_paused("tp", "nps_score", MONDAY_10, "eu")
    assert set(paused_kpis("tp", MONDAY_10)) == {"mttr", "nps_score"}
    assert maintenance("tp", MONDAY_10)["mttr"] == {
        "reason": "db migration",
        "eta": "11:00 UTC",
        "scope": "window",
        "entities": [],
    }


def test_canary_membership_is_deterministic_and_roughly_the_percentage():
    from companyos.admin.catalog import in_canary

    members = [e for e in (f"svc-{i}" for i in range(2000)) if in_canary(e, 20)]
    assert 300 < len(members) < 500
    assert members == [e for e in (f"svc-{i}" for i in range(2000)) if in_canary(e, 20)]
    assert in_canary("x", 0, ["x"]) and not in_canary("y", 100, ["x"])
    assert not in_canary("anything", 0)


def test_versions_bump_minor():
    from companyos.admin.catalog import next_version

    assert next_version([]) == "1.0.0"
    assert next_version(["1.0.0", "1.10.0", "1.9.0"]) == "1.11.0"


def _contract(**over):
    from companyos.runs.contracts import Contract

    doc = {
        "kpi_id": "k",
        "version": "1.0.0",
        "sources": [{"source_type": "signal", "kind": "deployment", "object": "github"}],
        "formula": {"builtin": "deployment_frequency"},
        "pre_rules": [{"id": "a", "type": "availability", "severity": "error"}],
        "post_rules": [{"id": "b", "type": "value_range", "severity": "error"}],
        "sla": {"max_duration_s": 60},
        "schedule": {"schedule_class": "daily", "cron": "cron(0 2 * * ? *)"},
        **over,
    }
    return Contract.model_validate(doc)


def test_guardrails_refuse_without_active_sla_or_validation_rules():
    from companyos.admin.guardrails import GuardrailViolation, check_guardrails

    check_guardrails(_contract())
    with pytest.raises(GuardrailViolation) as sla:
        check_guardrails(_contract(sla={"max_duration_s": 0}))
    assert sla.value.code == "guardrail_sla_missing" and sla.value.status == 422
    with pytest.raises(GuardrailViolation) as rules:
        check_guardrails(_contract(post_rules=[]))
    assert rules.value.code == "guardrail_validation_missing"


def test_a_stale_revision_is_a_409_with_the_current_record(aws):
    from companyos.admin import catalog
    from companyos.domain.errors import Conflict

    rec = catalog.KpiRecord("tl", "k", {"versions": {}})
    catalog.save(rec, create=True)
    a, b = catalog.require("tl", "k"), catalog.require("tl", "k")
    a.data["owner"] = "alice"
    catalog.save(a)
    b.data["owner"] = "bob"
    with pytest.raises(Conflict) as err:
        catalog.save(b)
    assert err.value.code == "version_conflict" and err.value.details["current_revision"] == a.revision
    assert err.value.details["current"]["owner"] == "alice"
    assert catalog.require("tl", "k").data["owner"] == "alice"  # no lost update


def test_the_search_index_patches_changed_kpis_from_the_revision_log(aws):
    from companyos.admin import catalog, search

    for i in range(3):
        rec = catalog.KpiRecord("ts", f"custom_{i}", {"owner": "team-a"})
        rec.versions["1.0.0"] = {"status": "draft", "contract": _contract(kpi_id=f"custom_{i}").to_state()}
        catalog.save(rec, create=True)
    first = search.search("ts", "custom", {"owner": "team-a"})
    assert first["total"] == 3
    rec = catalog.require("ts", "custom_1")
    rec.data["owner"] = "team-b"
    rec.data["purpose"] = "churned revenue by cohort"
    catalog.save(rec)
    again = search.search("ts", "cohort")
    assert [e["kpi_id"] for e in again["items"]] == ["custom_1"] and again["revision"] == first[
        "revision"
    ] + 1
    assert search.search("ts", "", {"owner": "team-a"})["total"] == 2
    assert search.search("ts", "deployment frequency", {"owner_kind": "platform"})["total"] >= 1  # built-ins
