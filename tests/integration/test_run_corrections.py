"""POST /api/runs/{run_id}/corrections over the front door: admins restate a delivered run as a new
run linked by lineage (the original untouched), the run log shows it both ways, the audit chain records
it; other roles, other tenants and bad requests get 4xx with a code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant
from tests.integration.test_pipeline_runs import put_deploys, run

TENANT = "restateco"  # its own tenant: other modules run KPIs for theirs


@pytest.fixture(scope="module")
def restateco(local: Running) -> TenantFixture:
    from companyos.adapters.repos import Catalog

    tenant = make_tenant(local, TENANT, "Restate Co")
    for email, role in ((f"admin@{TENANT}.test", "tenant_admin"), (f"auditor@{TENANT}.test", "auditor")):
        Catalog().put_member(TENANT, email, role, role)
        local.idp.add_user(email, role, {TENANT: role})
    put_deploys(TENANT, [(d / 2, True) for d in range(1, 30)])
    run(local, TENANT, ["deployment_frequency", "build_success_rate"])
    return tenant


def runs(local: Running, token: str) -> dict[str, dict[str, Any]]:
    reply = local.client.request("GET", f"/api/monitoring/runs?tenant={TENANT}&days=90", token=token)
    assert reply.status == 200, reply.body
    return {
        r["kpi_id"]: r
        for r in reply.body["runs"]
        if not str(r["lineage_ref"] or "").startswith("correction-of:")
    }


def correct(local: Running, token: str, run_id: str, body: Any, tenant: str = TENANT) -> Any:
    return local.client.request(
        "POST",
        f"/api/runs/{run_id}/corrections?tenant={tenant}",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
        token=token,
    )


def evidence(local: Running, token: str, run_id: str) -> dict[str, Any]:
    reply = local.client.request("GET", f"/api/runs/{run_id}?tenant={TENANT}", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def test_an_admin_restates_a_delivered_run_as_a_linked_audited_correction(local, restateco):
    admin = local.client.login(f"admin@{TENANT}.test")
    original = runs(local, admin)["deployment_frequency"]
    before = evidence(local, admin, original["run_id"])
    old_value = before["delivery"]["values"]["7d"]["value"]
    assert before["corrections"] == [] and before["corrects"] is None

    reply = correct(local, admin, original["run_id"], {"values": {"7d": 9.5}, "reason": "late deploy events"})

    assert reply.status == 200, reply.body
    out = reply.body
    assert out["run_id"] == f"{original['run_id']}-c1" and out["corrects"] == original["run_id"]
    assert out["values"] == {"7d": {"from": old_value, "to": 9.5}} and out["status"] == "success"

    # the correction's log: a manual run linked by lineage, delivery restated
    fixed = evidence(local, admin, out["run_id"])
    assert fixed["run"]["lineage_ref"] == f"correction-of:{original['run_id']}"
    assert fixed["run"]["trigger_type"] == "manual" and fixed["run"]["triggered_by"] == f"admin@{TENANT}.test"
    assert fixed["run"]["correction_reason"] == "late deploy events"
    assert fixed["delivery"]["scd_view"] == "restated" and fixed["delivery"]["values"]["7d"]["value"] == 9.5
    assert fixed["corrects"]["run_id"] == original["run_id"]

    # the original is unchanged and now lists its correction
    after = evidence(local, admin, original["run_id"])
    assert after["delivery"] == before["delivery"] and after["run"] == before["run"]
    assert [(c["run_id"], c["correction_reason"]) for c in after["corrections"]] == [
        (out["run_id"], "late deploy events")
    ]

    # a second correction gets the next number; the monitoring views list both as runs
    second = correct(local, admin, original["run_id"], {"values": {"28d": 3.0}, "reason": "second look"})
    assert second.status == 200 and second.body["run_id"] == f"{original['run_id']}-c2"
    listed = local.client.request("GET", f"/api/monitoring/runs?tenant={TENANT}&days=90", token=admin).body
    lineage = {r["run_id"]: r["lineage_ref"] for r in listed["runs"]}
    assert lineage[out["run_id"]] == lineage[second.body["run_id"]] == f"correction-of:{original['run_id']}"
    assert [c["run_id"] for c in evidence(local, admin, original["run_id"])["corrections"]] == [
        out["run_id"],
        second.body["run_id"],
    ]

    # audited with the values before and after
    audit = local.client.request("GET", f"/api/audit?tenant={TENANT}", token=admin).body["events"]
    event = next(e for e in audit if e["action"] == "run.correct" and e["target"] == original["run_id"])
    assert event["actor"] == f"admin@{TENANT}.test" and event["role"] == "tenant_admin"
    assert event["details"]["correction_run_id"] in (out["run_id"], second.body["run_id"])
    assert event["record_id"] in (out["audit_record"], second.body["audit_record"])


@pytest.mark.parametrize("user", ["cto", "auditor"])
def test_roles_without_runs_correct_are_refused_and_nothing_is_written(local, restateco, user):
    token = local.client.login(f"{user}@{TENANT}.test")
    original = runs(local, token)["deployment_frequency"]
    count = len(evidence(local, token, original["run_id"])["corrections"])
    reply = correct(local, token, original["run_id"], {"values": {"7d": 1.0}, "reason": "mine"})
    assert reply.status == 403 and reply.body["code"] == "action_forbidden"
    assert len(evidence(local, token, original["run_id"])["corrections"]) == count


def test_corrections_are_tenant_scoped_and_validated(local, restateco, umbrella):
    admin = local.client.login(f"admin@{TENANT}.test")
    by_kpi = runs(local, admin)
    delivered, skipped = by_kpi["deployment_frequency"]["run_id"], by_kpi["build_success_rate"]["run_id"]
    assert by_kpi["build_success_rate"]["status"] == "skipped"  # no builds: pre-validation hard fail

    def code(reply: Any) -> tuple[int, str]:
        return reply.status, reply.body["code"]

    other_tenant = correct(local, umbrella.cto_token, delivered, {"values": {"7d": 1.0}, "reason": "x x"})
    assert code(other_tenant) == (403, "tenant_forbidden")
    anonymous = local.client.request("POST", f"/api/runs/{delivered}/corrections?tenant={TENANT}", b"{}")
    assert anonymous.status == 401
    assert code(correct(local, admin, "no-such-run", {"values": {"7d": 1.0}, "reason": "why not"})) == (
        404,
        "run_not_found",
    )
    assert code(correct(local, admin, skipped, {"values": {"7d": 1.0}, "reason": "why not"})) == (
        409,
        "run_not_delivered",
    )
    assert code(correct(local, admin, delivered, {"values": {"1d": 1.0}, "reason": "why not"})) == (
        422,
        "invalid_period",
    )
    assert code(correct(local, admin, delivered, {"values": {}, "reason": "why not"})) == (
        422,
        "invalid_request",
    )
    assert code(correct(local, admin, delivered, {"values": {"7d": 1.0}})) == (422, "invalid_request")
    assert code(correct(local, admin, delivered, {"values": {"7d": "lots"}, "reason": "why not"})) == (
        422,
        "invalid_request",
    )
    first = correct(local, admin, delivered, {"values": {"7d": 2.0}, "reason": "for the chain test"})
    assert first.status == 200
    chained = correct(local, admin, first.body["run_id"], {"values": {"7d": 3.0}, "reason": "again"})
    assert code(chained) == (409, "run_is_correction")
    assert chained.body["details"]["original_run_id"] == delivered
