"""Monitoring views over HTTP (the same front door the cockpit uses): tenant-scoped, one Query each."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant
from tests.integration.test_pipeline_runs import publish, put_deploys, run


def run_troubled_kpis(local: Running, tenant_id: str) -> None:
    """One success, one skipped, one blocked, one SLA breach, one retried-to-success KPI (also the
    browser test's tenant: the demo's own runs all succeed)."""
    from companyos.domain.errors import TransientError
    from companyos.runs import formulas

    put_deploys(tenant_id, [(d / 3, True) for d in range(1, 30)])
    calls = {"n": 0}

    def flaky(buckets: Any, end: Any, days: int) -> formulas.Outcome:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("throttled")
        return formulas.deployment_frequency(buckets, end, days)

    formulas.register(f"test_flaky_{tenant_id}", formulas.Builtin(formulas.fold_deployments, flaky))
    publish(tenant_id, "flaky", f"test_flaky_{tenant_id}")
    publish(tenant_id, "slow", "deployment_frequency", sla={"max_duration_s": 0})
    publish(
        tenant_id,
        "capped",
        "deployment_frequency",
        post_rules=[{"id": "cap", "type": "value_range", "severity": "error", "params": {"max": 0.1}}],
    )
    run(local, tenant_id, ["deployment_frequency", "build_success_rate", "capped", "slow", "flaky"])


@pytest.fixture(scope="module")
def vandelay(local: Running) -> TenantFixture:
    tenant = make_tenant(local, "vandelay", "Vandelay Industries")
    run_troubled_kpis(local, "vandelay")
    return tenant


def get(local: Running, path: str, token: str) -> Any:
    reply = local.client.request("GET", path, token=token)
    assert reply.status == 200, reply.body
    return reply.body


def test_run_overview_lists_every_attempt_with_status_and_a_link(local, vandelay):
    body = get(local, "/api/monitoring/runs?tenant=vandelay&days=90", vandelay.cto_token)

    statuses = sorted((r["kpi_id"], r["status"]) for r in body["runs"])
    assert statuses == [
        ("build_success_rate", "skipped"),
        ("capped", "failed"),
        ("deployment_frequency", "success"),
        ("flaky", "failed"),
        ("flaky", "success"),
        ("slow", "success"),
    ]
    assert body["truncated"] is False and body["count"] == 6
    assert all(r["href"] == f"/api/runs/{r['run_id']}?tenant=vandelay" for r in body["runs"])
    only = get(
        local, "/api/monitoring/runs?tenant=vandelay&days=90&kpi=flaky&status=success", vandelay.cto_token
    )
    assert [(r["kpi_id"], r["retry_seq"]) for r in only["runs"]] == [("flaky", 1)]


def test_validation_summary_lineage_and_sla_views(local, vandelay):
    summary = get(local, "/api/monitoring/validation?tenant=vandelay&days=90", vandelay.cto_token)
    by_kpi = {r["kpi_id"]: r for r in summary["runs"] if r["kpi_id"] in ("build_success_rate", "capped")}
    assert by_kpi["build_success_rate"]["pre_fail_count"] == 2  # availability (error) + freshness (warn)
    assert by_kpi["capped"]["post_fail_count"] == 1
    assert by_kpi["capped"]["failed_rules"] == [
        {"rule_id": "cap", "rule_type": "value_range", "severity": "error", "phase": "post"}
    ]

    lineage = get(
        local, "/api/monitoring/lineage?tenant=vandelay&days=90&kpi=deployment_frequency", vandelay.cto_token
    )
    assert [(s["source_type"], s["source_object"]) for s in lineage["sources"]] == [
        ("signal", "github.deployment_status")
    ]

    sla = get(local, "/api/monitoring/sla-violations?tenant=vandelay&days=90", vandelay.cto_token)
    assert [v["kpi_id"] for v in sla["violations"]] == ["slow"]
    assert "max 0 s" in sla["violations"][0]["sla_reason"]


def test_exec_ops_and_dev_dashboards(local, vandelay):
    exec_ = get(local, "/api/monitoring/dashboards/exec?tenant=vandelay&days=90", vandelay.cto_token)
    assert exec_["sla_compliance_pct"] == pytest.approx(100 * 5 / 6, abs=0.01)
    assert exec_["top_failing_kpis"][0]["failures"] == 1
    assert {k["kpi_id"] for k in exec_["top_failing_kpis"]} == {"build_success_rate", "capped", "flaky"}
    # run health is counted by the newest attempt of each KPI, never averaged into a 0-100 number:
    # capped failed (Critical), build_success_rate skipped (Warning), deployment_frequency delivered
    # with a verdict (Healthy); flaky and slow delivered values no dictionary KPI judges (no verdict):
    # Unknown, not fine
    assert "kpi_health_index" not in exec_
    assert exec_["run_health"]["counts"] == {
        "critical": 1,
        "warning": 1,
        "attention": 0,
        "healthy": 1,
        "excellent": 0,
        "unknown": 2,
    }
    runs = {k["kpi_id"]: k for k in exec_["kpi_runs"]}
    assert (runs["flaky"]["runs"], runs["flaky"]["delivered"], runs["flaky"]["verdict"]) == (2, 1, None)
    assert runs["flaky"]["status"] == runs["slow"]["status"] == "unknown"
    assert runs["capped"]["status"] == "critical" and runs["capped"]["verdict_run_id"] is None

    overview = get(local, "/api/monitoring/runs?tenant=vandelay&days=90", vandelay.cto_token)
    ops = get(local, "/api/monitoring/dashboards/ops?tenant=vandelay&days=90", vandelay.cto_token)
    flaky_ok = next(
        r["run_id"] for r in overview["runs"] if r["kpi_id"] == "flaky" and r["status"] == "success"
    )
    assert ops["retries"] == {
        "retried_attempts": 1,
        "succeeded": 1,
        "failed": 0,
        "success_rate_pct": 100.0,
        "run_ids": [flaky_ok],
    }
    assert ops["runs_skipped"] == 1 and ops["skipped_by_kpi"] == {"build_success_rate": 1}
    kinds = {
        (f["phase"], f["rule_type"], f["severity"]): f["count"]
        for f in ops["validation_failures_by_rule_type"]
    }
    assert kinds[("pre", "availability", "error")] == 1 and kinds[("post", "value_range", "error")] == 1

    dev = get(local, "/api/monitoring/dashboards/dev?tenant=vandelay&days=90", vandelay.cto_token)
    codes = {c["error_code"]: c["count"] for c in dev["error_codes"]}
    assert codes == {"PRE_VALIDATION_FAILED": 1, "POST_VALIDATION_FAILED": 1, "TransientError": 1}
    assert dev["sql_hash_changes"] == [] and dev["duration_anomalies"] == []


def test_monitoring_is_tenant_scoped_and_validated(local, vandelay, umbrella):
    other = local.client.request("GET", "/api/monitoring/runs?tenant=vandelay", token=umbrella.cto_token)
    assert other.status == 403 and other.body["code"] == "tenant_forbidden"
    anonymous = local.client.request("GET", "/api/monitoring/runs?tenant=vandelay")
    assert anonymous.status == 401
    bad = local.client.request(
        "GET", "/api/monitoring/dashboards/cfo?tenant=vandelay", token=vandelay.cto_token
    )
    assert bad.status == 422 and bad.body["code"] == "invalid_audience"
    too_long = local.client.request(
        "GET", "/api/monitoring/runs?tenant=vandelay&days=365", token=vandelay.cto_token
    )
    assert too_long.status == 422
