"""One KPI's whole life through the admin API and the approval state machine (moto executes the ASL;
the execution really parks on its task token until the decision endpoint resumes it):
draft → approved (4-eyes) → dev → stg → prod (change window) → a run uses it → rollback in one call."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.conftest import Running
from tests.integration.admin_helpers import (
    ALWAYS_OPEN,
    NEVER_OPEN,
    AdminApi,
    AdminTenant,
    execution_status,
    make_admin_tenant,
)

KPI = "deployment_frequency"  # built in: the tenant's record starts from the platform's 2.0.0 (#14)


@pytest.fixture(scope="module")
def hooli(local: Running) -> AdminTenant:
    return make_admin_tenant(local, "hooli")


@pytest.fixture(scope="module")
def api(local: Running, hooli: AdminTenant) -> AdminApi:
    return AdminApi(local, hooli)


def run_once(local: Running, tenant_id: str, kpi_id: str) -> dict[str, Any]:
    """One manual KPI run through the kpi_run state machine; its run header."""
    from companyos.adapters.repos import RunLog

    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name=f"admin-{tenant_id}-{time.monotonic_ns()}",
        input=json.dumps(
            {"pairs": [{"tenant_id": tenant_id, "kpi_id": kpi_id}], "trigger": {"type": "manual"}}
        ),
    )["executionArn"]
    assert local.stack.wait_for_execution(arn, 120)["status"] == "SUCCEEDED"
    return RunLog(tenant_id).recent_runs(kpi_id, limit=1)[0]


def test_full_lifecycle_through_approvals_to_active_in_prod_then_rollback(local, api):
    api.ok("approver1", "PUT", "/admin/change-window", ALWAYS_OPEN)

    # Given a draft of a high-criticality KPI with a tighter variance rule
    draft = api.ok("author", "POST", f"/kpis/{KPI}/versions", {"criticality": "high", "reason": "tighten"})
    assert (
        draft["versions"]["2.0.0"]["status"] == "active" and draft["versions"]["2.1.0"]["status"] == "draft"
    )

    # When it is submitted, the approval execution parks on its task token
    sub = api.ok("author", "POST", f"/kpis/{KPI}/versions/2.1.0/submit", {"reason": "ready"})
    pending = api.wait_pending(sub["request_id"])
    assert pending["required_approvals"] == 2 and "task_token" not in pending
    assert execution_status(sub["execution_arn"]) == "RUNNING"

    # Then the author cannot approve, one approver is not enough, the same approver twice is refused
    own = api.call("author", "POST", f"/approvals/{sub['request_id']}/decision", {"decision": "approve"})
    assert own.status == 403 and own.body["code"] == "author_cannot_approve"
    first = api.ok("approver1", "POST", f"/approvals/{sub['request_id']}/decision", {"decision": "approve"})
    assert first["status"] == "pending" and first["approvals"] == 1
    again = api.call("approver1", "POST", f"/approvals/{sub['request_id']}/decision", {"decision": "approve"})
    assert again.status == 409 and again.body["code"] == "duplicate_approver"
    time.sleep(0.3)
    assert execution_status(sub["execution_arn"]) == "RUNNING"  # still waiting on the token

    # And the second distinct approver resumes the execution, which applies the change
    api.ok("approver2", "POST", f"/approvals/{sub['request_id']}/decision", {"decision": "approve"})
    settled = api.wait_settled(sub)
    assert settled["status"] == "approved"
    record = api.ok("cto", "GET", f"/kpis/{KPI}")
    assert record["versions"]["2.1.0"]["status"] == "approved"
    assert record["versions"]["2.1.0"]["approved_by"] == ["approver1@hooli.test", "approver2@hooli.test"]

    # Promotion is ordered dev → stg → prod
    skip = api.call("author", "POST", f"/kpis/{KPI}/versions/2.1.0/publish", {"env": "prod"})
    assert skip.status == 409 and skip.body["code"] == "promotion_out_of_order"
    dev = api.ok("author", "POST", f"/kpis/{KPI}/versions/2.1.0/publish", {"env": "dev"})
    assert dev["status"] == "active" and dev["record"]["envs"]["dev"]["active"] == "2.1.0"
    stg = api.ok("author", "POST", f"/kpis/{KPI}/versions/2.1.0/publish", {"env": "stg"})
    assert api.approve_all(stg, ("approver1", "approver2"))["status"] == "approved"

    # Prod: the final approval is refused outside the change window, accepted inside it
    prod = api.ok("author", "POST", f"/kpis/{KPI}/versions/2.1.0/publish", {"env": "prod", "reason": "go"})
    api.wait_pending(prod["request_id"])
    api.ok("approver1", "PUT", "/admin/change-window", NEVER_OPEN)
    api.ok("approver1", "POST", f"/approvals/{prod['request_id']}/decision", {"decision": "approve"})
    closed = api.call(
        "approver2", "POST", f"/approvals/{prod['request_id']}/decision", {"decision": "approve"}
    )
    assert closed.status == 409 and closed.body["code"] == "change_window_closed"
    assert "window" in closed.body["details"]
    api.ok("approver1", "PUT", "/admin/change-window", ALWAYS_OPEN)
    api.ok("approver2", "POST", f"/approvals/{prod['request_id']}/decision", {"decision": "approve"})
    assert api.wait_settled(prod)["status"] == "approved"

    record = api.ok("cto", "GET", f"/kpis/{KPI}")
    assert record["envs"]["prod"] == {"active": "2.1.0", "history": ["2.0.0"]}
    assert record["versions"]["2.1.0"]["status"] == "active"

    # The next run uses the new version...
    assert run_once(local, "hooli", KPI)["contract_version"] == "2.1.0"

    # ...and one rollback call restores the previous version's behaviour in the next run
    back = api.ok(
        "approver1", "POST", f"/kpis/{KPI}/versions/2.1.0/rollback", {"env": "prod", "reason": "bad"}
    )
    assert back["to"] == "2.0.0" and back["record"]["envs"]["prod"]["active"] == "2.0.0"
    assert run_once(local, "hooli", KPI)["contract_version"] == "2.0.0"

    # Every step is in the audit chain, which verifies with its KMS-signed digest once sealed
    local.stack.seal_audit()
    verify = api.ok("auditor", "GET", "/audit/verify")
    assert verify["ok"] and verify["signature_valid"] and verify["unsigned_events"] == 0
    assert verify["pending_events"] == 0
    actions = [e["action"] for e in api.ok("auditor", "GET", "/audit?limit=500")["events"]]
    expected: tuple[str, ...] = ("kpi.draft.create", "change.approve.submit", "approval.approve")
    expected += ("change.approve.approved", "kpi.publish", "change.promote.approved", "kpi.rollback")
    for action in expected:
        assert action in actions, action


def test_a_rejected_request_frees_the_draft(local, api):
    api.ok("approver1", "PUT", "/admin/change-window", ALWAYS_OPEN)
    before = api.ok("cto", "GET", "/kpis/mttr")["versions"]
    made = api.ok("author", "POST", "/kpis/mttr/versions", {"criticality": "low"})["versions"]
    (draft,) = set(made) - set(before)  # the next minor over whatever the platform pack holds
    assert made[draft]["status"] == "draft"
    sub = api.ok("author", "POST", f"/kpis/mttr/versions/{draft}/submit", {"reason": "try"})
    api.wait_pending(sub["request_id"])
    api.ok(
        "approver1",
        "POST",
        f"/approvals/{sub['request_id']}/decision",
        {"decision": "reject", "reason": "no"},
    )
    assert api.wait_settled(sub)["status"] == "rejected"
    record = api.ok("cto", "GET", "/kpis/mttr")
    assert (
        record["versions"][draft]["status"] == "draft" and "pending_request" not in record["versions"][draft]
    )
    closed = api.call(
        "approver2", "POST", f"/approvals/{sub['request_id']}/decision", {"decision": "approve"}
    )
    assert closed.status == 409 and closed.body["code"] == "approval_closed"


def test_read_only_roles_cannot_change_anything(api):
    for who in ("cto", "auditor"):
        denied = api.call(who, "POST", "/kpis/mttr/versions", {})
        assert denied.status == 403 and denied.body["code"] == "action_forbidden"
    assert api.call("cto", "GET", "/audit/verify").status == 403
    assert api.call("cto", "GET", "/catalog?q=deploy").status == 200
