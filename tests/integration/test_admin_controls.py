"""Admin controls through the real API on embedded AWS: concurrent edits, guardrails, pause and the
scheduler, edits with impact preview, lineage, catalog search, decommissioning, audit export and CLI."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.admin_helpers import ALWAYS_OPEN, AdminApi, AdminTenant, make_admin_tenant

CUSTOM: dict[str, Any] = {
    "name": "Churned revenue",
    "sources": [{"source_type": "signal", "kind": "deployment", "object": "github.deployment_status"}],
    "formula": {"builtin": "deployment_frequency"},
    "pre_rules": [{"id": "available", "type": "availability", "severity": "error"}],
    "post_rules": [{"id": "non_negative", "type": "value_range", "severity": "error", "params": {"min": 0}}],
    "sla": {"max_duration_s": 300},
    "schedule": {"schedule_class": "daily", "cron": "cron(0 2 * * ? *)"},
}


@pytest.fixture(scope="module")
def piedpiper(local: Running) -> AdminTenant:
    return make_admin_tenant(local, "piedpiper")


@pytest.fixture(scope="module")
def api(local: Running, piedpiper: AdminTenant) -> AdminApi:
    a = AdminApi(local, piedpiper)
    a.ok("approver1", "PUT", "/admin/change-window", ALWAYS_OPEN)
    return a


def test_two_simultaneous_edits_one_wins_the_other_gets_409_with_the_current_version(api):
    draft = api.ok("author", "POST", "/kpis/churned_revenue/versions", {"contract": CUSTOM})
    revision = draft["revision"]
    replies: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def edit(who: str, seconds: int) -> None:
        body = {"contract": {**CUSTOM, "sla": {"max_duration_s": seconds}}, "expected_revision": revision}
        barrier.wait()
        replies[who] = api.call(who, "PUT", "/kpis/churned_revenue/versions/1.0.0", body)

    threads = [threading.Thread(target=edit, args=(w, s)) for w, s in (("author", 111), ("approver1", 222))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = sorted(r.status for r in replies.values())
    assert statuses == [200, 409]
    winner = next(w for w, r in replies.items() if r.status == 200)
    loser = replies["approver1" if winner == "author" else "author"]
    assert loser.body["code"] == "version_conflict"
    assert loser.body["details"]["current_revision"] == replies[winner].body["revision"] == revision + 1
    kept = api.ok("cto", "GET", "/kpis/churned_revenue")["versions"]["1.0.0"]["contract"]["sla"]
    assert kept["max_duration_s"] == (111 if winner == "author" else 222)  # the winner's edit is not lost
    # the loser re-applies on the current revision and succeeds
    retry = {"contract": {**CUSTOM, "sla": {"max_duration_s": 333}}, "expected_revision": revision + 1}
    assert api.call("author", "PUT", "/kpis/churned_revenue/versions/1.0.0", retry).status == 200


def test_guardrails_refuse_to_submit_without_sla_or_validation_rules(api):
    no_sla = {**CUSTOM, "name": "No SLA", "sla": {"max_duration_s": 0}}
    api.ok("author", "POST", "/kpis/no_sla_kpi/versions", {"contract": no_sla})
    refused = api.call("author", "POST", "/kpis/no_sla_kpi/versions/1.0.0/submit", {})
    assert refused.status == 422 and refused.body["code"] == "guardrail_sla_missing"
    no_rules = {**CUSTOM, "name": "No rules", "post_rules": []}
    api.ok("author", "POST", "/kpis/no_rules_kpi/versions", {"contract": no_rules})
    refused = api.call("author", "POST", "/kpis/no_rules_kpi/versions/1.0.0/submit", {})
    assert refused.status == 422 and refused.body["code"] == "guardrail_validation_missing"


def test_a_global_pause_makes_the_scheduler_skip_and_resume_brings_it_back(local, api):
    paused = api.ok(
        "approver1",
        "POST",
        "/kpis/deployment_frequency/versions/2.0.0/pause",
        {"reason": "source migration", "eta": "2h"},
    )
    assert paused["pause"]["scope"] == "global"

    tick = local.stack.invoke("scheduler", {"schedule_class": "realtime", "tenant_ids": ["piedpiper"]})
    skipped = {(p["tenant_id"], p["kpi_id"]) for p in tick["paused"]}
    assert ("piedpiper", "deployment_frequency") in skipped
    assert api.ok("cto", "GET", "/kpis/deployment_frequency")["pauses"][0]["reason"] == "source migration"

    api.ok("approver1", "POST", "/kpis/deployment_frequency/versions/2.0.0/resume", {"reason": "done"})
    tick = local.stack.invoke("scheduler", {"schedule_class": "realtime", "tenant_ids": ["piedpiper"]})
    assert ("piedpiper", "deployment_frequency") not in {
        (p["tenant_id"], p["kpi_id"]) for p in tick["paused"]
    }


def test_scoped_pauses_are_what_is_paused_answers(api):
    from datetime import timedelta

    from companyos.admin import is_paused

    start = clock.now() + timedelta(hours=1)
    body = {
        "reason": "vendor window",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
    }
    api.ok("approver1", "POST", "/kpis/mttr/versions/2.1.0/pause", body)
    api.ok(
        "approver1", "POST", "/kpis/mttr/versions/2.1.0/pause", {"reason": "eu outage", "entities": ["eu"]}
    )
    assert not is_paused("piedpiper", "mttr")
    assert is_paused("piedpiper", "mttr", start + timedelta(minutes=30))
    assert is_paused("piedpiper", "mttr", entity="eu") and not is_paused("piedpiper", "mttr", entity="us")
    no_reason = api.call("approver1", "POST", "/kpis/mttr/versions/2.1.0/pause", {})
    assert no_reason.status == 422 and no_reason.body["code"] == "reason_required"


def test_schedule_edit_previews_impact_then_creates_a_new_draft(api):
    before = api.ok("cto", "GET", "/kpis/churned_revenue")
    preview = api.ok(
        "author",
        "POST",
        "/kpis/churned_revenue/versions/1.0.0/schedule",
        {"schedule_class": "hourly", "preview": True},
    )
    assert (
        "draft_version" not in preview
        and preview["preview"]["after"]["schedule"]["schedule_class"] == "hourly"
    )
    assert any("runs per day: 1 → 24" in n for n in preview["preview"]["impact"]["notes"])
    assert api.ok("cto", "GET", "/kpis/churned_revenue")["revision"] == before["revision"]  # nothing written

    made = api.ok("author", "POST", "/kpis/churned_revenue/versions/1.0.0/sla", {"max_duration_s": 120})
    assert made["draft_version"] == "1.1.0"
    assert made["versions"]["1.1.0"]["contract"]["sla"]["max_duration_s"] == 120
    assert made["versions"]["1.1.0"]["based_on"] == "1.0.0"


def test_lineage_and_impact_reach_dashboards_and_alerts(api):
    lin = api.ok("cto", "GET", "/kpis/deployment_frequency/lineage")
    ids = {n["id"] for n in lin["nodes"]}
    assert "source:signal:deployment" in lin["upstream"]
    assert {
        "dimension:efficiency",
        "composite:company_health",
        "dashboard:ceo",
    } <= ids or "dashboard:cto" in ids
    assert "alert:KpiSlaBreach:deployment_frequency" in lin["downstream"]
    impact = api.ok("cto", "GET", "/kpis/deployment_frequency/impact?change=pause")
    assert impact["affected"]["dashboard"] and impact["affected"]["alert"]
    bad = api.call("cto", "GET", "/kpis/deployment_frequency/impact?change=teleport")
    assert bad.status == 422 and bad.body["code"] == "unknown_change"


def test_lineage_lists_every_pack_rule_that_reads_the_kpi(api):
    """change_failure_rate's lineage used to show only the generic SLA / validation alerts: the pack
    rules reading its value (DORARegression) and its run outcomes (the runtime anomaly) were missing."""
    from companyos.domain.alert_rules import load_pack

    lin = api.ok("cto", "GET", "/kpis/change_failure_rate/lineage")
    alerts = {n["rule"]: n for n in lin["nodes"] if n["type"] == "alert"}
    pack = load_pack()
    expected = {
        r.id
        for r in pack.rules
        if r.source == "run" or (r.source == "kpi" and r.metric == "change_failure_rate")
    }
    assert expected >= {"DORARegression", "KpiRuntimeAnomaly", "KpiSlaBreach", "KpiValidationHardFail"}
    assert set(alerts) == expected
    assert (
        alerts["DORARegression"]["routes_to"] == "cto" and alerts["DORARegression"]["severity"] == "warning"
    )
    vulns = {
        n["rule"]
        for n in api.ok("cto", "GET", "/kpis/vuln_sla_compliance/lineage")["nodes"]
        if n["type"] == "alert"
    }
    # the rows it delivers feed the per-severity rules
    assert {"CriticalCVEDetected", "CVESLABreached", "CriticalDependencyOutdated"} <= vulns


def test_catalog_search_and_facets(api):
    found = api.ok("cto", "GET", "/catalog?q=churned")
    assert [i["kpi_id"] for i in found["items"]] == ["churned_revenue"]
    assert found["items"][0]["status"] == "draft"
    platform = api.ok("cto", "GET", "/catalog?q=deployment&owner_kind=platform")
    assert platform["total"] >= 1
    drafts = api.ok("cto", "GET", "/catalog?status=draft")
    assert all(i["status"] == "draft" for i in drafts["items"]) and drafts["facets"]["status"]["draft"] >= 1


def test_deprecate_then_retire_only_after_grace_and_when_active_nowhere(api):
    rec = api.ok("author", "POST", "/kpis/p1_incident_count/versions", {"criticality": "low"})
    assert rec["envs"]["prod"]["active"] == "1.1.0"
    dep = api.ok(
        "approver1",
        "POST",
        "/kpis/p1_incident_count/versions/1.1.0/deprecate",
        {"grace_days": 0, "reason": "replaced"},
    )
    assert dep["record"]["versions"]["1.1.0"]["status"] == "deprecated" and dep["warned"]["affected"]
    live = api.call("approver1", "POST", "/kpis/p1_incident_count/versions/1.1.0/retire", {"reason": "x"})
    assert live.status == 409 and live.body["code"] == "still_active"
    for env in ("dev", "stg", "prod"):
        api.ok("approver1", "POST", "/kpis/p1_incident_count/versions/1.1.0/unpublish", {"env": env})
    retired = api.ok("approver1", "POST", "/kpis/p1_incident_count/versions/1.1.0/retire", {"reason": "gone"})
    assert retired["versions"]["1.1.0"]["status"] == "retired"
    assert retired["versions"]["1.1.0"]["archived_lineage"]["kpi_id"] == "p1_incident_count"


def test_canary_takes_a_share_of_entities(api):
    from companyos.admin.catalog import canary_version

    api.ok("approver1", "PUT", "/admin/change-window", ALWAYS_OPEN)
    api.ok("author", "POST", "/kpis/build_success_rate/versions", {"criticality": "low"})
    not_yet = api.call(
        "approver1", "POST", "/kpis/build_success_rate/versions/1.2.0/canary", {"env": "prod", "percent": 10}
    )
    assert not_yet.status == 409 and not_yet.body["code"] == "invalid_transition"
    sub = api.ok("author", "POST", "/kpis/build_success_rate/versions/1.2.0/submit", {})
    api.approve_all(sub, ("approver1",))
    api.ok(
        "approver1",
        "POST",
        "/kpis/build_success_rate/versions/1.2.0/canary",
        {"env": "prod", "percent": 0, "entities": ["svc-canary"]},
    )
    assert canary_version("piedpiper", "build_success_rate", "prod", "svc-canary") == "1.2.0"
    assert canary_version("piedpiper", "build_success_rate", "prod", "svc-other") == "1.1.0"


def test_audit_export_checksums_match_and_the_cli_verifies_the_chain(local, api, capsys):
    from companyos.adapters.audit_verify import check_bundle

    from tools import audit_cli as cli

    local.stack.seal_audit()
    bundle = api.ok("auditor", "GET", "/audit/export")
    for name, text in bundle["files"].items():
        assert hashlib.sha256(text.encode()).hexdigest() == bundle["manifest"]["checksums"][name]
    assert check_bundle(bundle) == [] and bundle["manifest"]["chain_ok"]
    assert {"events.json", "digests.json", "verify.json", "approvals.json", "catalog.json"} <= set(
        bundle["files"]
    )
    assert api.call("cto", "GET", "/audit/export").status == 403

    assert cli.main(["audit", "verify", "--tenant", "piedpiper"]) == 0
    assert '"ok": true' in capsys.readouterr().out


def test_the_cli_exits_1_when_an_event_was_tampered_with(local, api, tmp_path, capsys):
    from companyos.adapters.audit import AuditEvent, AuditTrail
    from companyos.adapters.models import AuditItem

    from tools import audit_cli as cli

    trail = AuditTrail("piedpiper-tamper")
    for i in range(3):
        trail.append(AuditEvent("a@x", "tenant_admin", f"act{i}", "t"))
    local.stack.seal_audit()
    assert cli.main(["audit", "export", "--tenant", "piedpiper-tamper", "--out", str(tmp_path)]) == 0
    sums = (tmp_path / "SHA256SUMS").read_text().splitlines()
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    item = list(AuditItem.query("piedpiper-tamper"))[1]
    item.event = {**item.event, "actor": "mallory"}
    item.save()
    assert cli.main(["audit", "verify", "--tenant", "piedpiper-tamper"]) == 1
    assert '"hash_mismatch"' in capsys.readouterr().out


def test_the_cli_catches_a_rolled_back_tail_against_an_exported_digest(local, tmp_path, capsys):
    from companyos.adapters.audit import AuditEvent, AuditTrail
    from companyos.adapters.models import AuditItem

    from tools import audit_cli as cli

    trail = AuditTrail("piedpiper-rollback")
    trail.append(AuditEvent("a@x", "tenant_admin", "act0", "t"))
    local.stack.seal_audit()
    trail.append(AuditEvent("a@x", "tenant_admin", "act1", "t"))
    local.stack.seal_audit()
    assert cli.main(["audit", "export", "--tenant", "piedpiper-rollback", "--out", str(tmp_path)]) == 0
    # delete the last sealing batch whole: its entry and its digest (the chain looks one event shorter)
    list(AuditItem.query("piedpiper-rollback"))[-1].delete()
    list(AuditItem.query("piedpiper-rollback#DIGEST"))[-1].delete()
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--tenant", "piedpiper-rollback"]) == 0  # within the heartbeat
    anchor = str(tmp_path / "digests.json")
    assert cli.main(["audit", "verify", "--tenant", "piedpiper-rollback", "--anchor", anchor]) == 1
    assert '"anchor_missing"' in capsys.readouterr().out
