"""The demo's KPI monitoring views (issue #5): five days of daily backfill runs through the real kpi_run
state machine, with the contract versions the demo tenants' admins published, gives the monitoring
dashboards skipped runs, blocked deliveries by rule type, SLA violations and duration baselines —
each figure with run ids whose logs open — while the cockpit keeps the values computed as of now."""

from __future__ import annotations

from typing import Any

from tests.conftest import Running


def api(local: Running, user: str, path: str) -> Any:
    reply = local.client.request("GET", path, token=local.client.login(user))
    assert reply.status == 200, reply.body
    return reply.body


def run_log(local: Running, user: str, tenant: str, run_id: str) -> dict[str, Any]:
    return dict(api(local, user, f"/api/runs/{run_id}?tenant={tenant}"))


def test_globex_history_shows_skipped_runs_and_a_blocked_delivery_with_their_logs(local, demo):
    user = "admin@globex.demo"
    ops = api(local, user, "/api/monitoring/dashboards/ops?tenant=globex&days=7")

    # deploy freshness made a hard rule by Globex's admin: days without a deploy in 24 h are skipped
    assert ops["runs_skipped"] >= 1
    assert ops["skipped_by_kpi"].get("deployment_frequency", 0) >= 1
    for run_id in ops["skipped_run_ids"]:
        log = run_log(local, user, "globex", run_id)
        assert log["run"]["status"] == "skipped" and log["run"]["error_code"] == "PRE_VALIDATION_FAILED"
        assert log["run"]["contract_version"] == "2.1.0" and log["delivery"] is None
        fresh = next(r for r in log["pre_validation"] if r["rule_id"] == "deployments_fresh")
        assert fresh["result"] == "fail" and fresh["severity"] == "error"
        assert "max 24 h" in fresh["details"]
        assert log["run"]["as_of"] < log["run"]["started_at"]  # a backfill of a past day

    # failures by rule type: the pre freshness rule, and the blocking variance rule of CFR v2.1.0
    by_type = {
        (f["phase"], f["rule_type"], f["severity"]): f for f in ops["validation_failures_by_rule_type"]
    }
    assert ("pre", "freshness", "error") in by_type
    blocked = by_type[("post", "variance", "error")]
    assert blocked["count"] >= 1
    for run_id in blocked["run_ids"]:
        log = run_log(local, user, "globex", run_id)
        assert log["run"]["kpi_id"] == "change_failure_rate" and log["run"]["status"] == "failed"
        assert log["run"]["error_code"] == "POST_VALIDATION_FAILED" and log["delivery"] is None
        variance = next(r for r in log["post_validation"] if r["rule_id"] == "rate_variance")
        assert variance["result"] == "fail" and "max 25%)" in variance["details"]

    # the exec view counts the failures against their KPIs
    ex = api(local, user, "/api/monitoring/dashboards/exec?tenant=globex&days=7")
    failing = {k["kpi_id"]: k for k in ex["top_failing_kpis"]}
    assert set(ops["skipped_run_ids"]) <= set(failing["deployment_frequency"]["run_ids"])
    runs = {k["kpi_id"]: k for k in ex["kpi_runs"]}
    cfr = runs["change_failure_rate"]
    assert cfr["delivered"] < cfr["runs"]  # blocked runs count as not delivered

    # the publish and the rollback are the admins' audited changes
    events = api(local, user, "/api/audit?tenant=globex&limit=200")["events"]
    actions = {(e["actor"], e["action"], e["target"]) for e in events}
    assert ("admin@globex.demo", "kpi.publish", "change_failure_rate@2.1.0") in actions
    assert ("admin2@globex.demo", "kpi.rollback", "change_failure_rate@2.1.0") in actions


def test_northwind_history_has_sla_violations_and_duration_baselines(local, demo):
    user = "ops@northwind.demo"
    q = "tenant=northwind&days=7"
    sla = api(local, user, f"/api/monitoring/sla-violations?{q}")["violations"]
    wau = [v for v in sla if v["kpi_id"] == "weekly_active_users"]
    assert wau, "the 1 s SLA of weekly_active_users v1.2.0 is tighter than its run takes"
    for v in wau:
        assert v["contract_version"] == "1.2.0" and v["duration_s"] > 1
        assert v["sla_reason"].startswith("took ") and v["sla_reason"].endswith(" s (max 1 s)")
        log = run_log(local, user, "northwind", v["run_id"])
        assert log["run"]["sla_breached"] is True and log["run"]["status"] in ("success", "partial")
        assert log["delivery"] is not None  # an SLA breach is flagged, the values are still delivered
    ex = api(local, user, f"/api/monitoring/dashboards/exec?{q}")
    assert ex["sla_breaches"] == len(sla) and ex["sla_compliance_pct"] < 100

    # daily backfills: every history KPI has runs as of 5 past days plus now, so a baseline exists
    runs = api(local, user, f"/api/monitoring/runs?{q}&kpi=deployment_frequency")["runs"]
    as_of_days = {r["as_of"][:10] for r in runs}
    assert len(as_of_days) == 6 and len(runs) == 6  # dev view's anomaly baseline needs 5 earlier runs
    assert all(r["duration_s"] > 0 for r in runs)
    for r in runs[:2]:
        assert run_log(local, user, "northwind", r["run_id"])["run"]["run_id"] == r["run_id"]
    lineage = api(local, user, f"/api/monitoring/lineage?{q}&kpi=deployment_frequency")["sources"]
    assert len({s["run_id"] for s in lineage}) == len(runs)


def test_the_cockpit_shows_the_values_computed_as_of_now(local, demo):
    # the newest delivered run of each KPI is the final run as of now, not a backfill of a past day
    user = "ceo@northwind.demo"
    body = api(local, user, "/api/scores/breakdown?tenant=northwind&period=7d")
    run = api(local, user, body["evidence"]["deployment_frequency"]["href"])["run"]
    assert run["triggered_by"] == "demo-seed" and run["trigger_type"] == "manual"
    runs = api(local, user, "/api/monitoring/runs?tenant=northwind&days=7&kpi=deployment_frequency")["runs"]
    assert runs[0]["run_id"] == run["run_id"]
    assert run["as_of"] == max(r["as_of"] for r in runs)
    assert all(r["triggered_by"] != "demo-seed" for r in runs[1:])
