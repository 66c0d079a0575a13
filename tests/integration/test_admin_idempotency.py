"""The approval state machine's task handler is idempotent: a replayed task event (a Lambda retry, a
Step Functions retry of the task) answers what the first invocation answered and does its work once:
one audit event, one write of the KPI record and of the change request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Running
from tests.integration.admin_helpers import AdminApi, make_admin_tenant

KPI = "deployment_frequency"  # built in: the tenant's first draft adopts the platform's 2.0.0
TENANT = "replayco"
REQUEST_ID = "cr-replay000000001"


@pytest.fixture(scope="module")
def api(local: Running) -> AdminApi:
    return AdminApi(local, make_admin_tenant(local, TENANT))


def _request() -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "request_id": REQUEST_ID,
        "kind": "approve",
        "kpi_id": KPI,
        "version": "2.1.0",
        "env": None,
        "requested_by": f"author@{TENANT}.test",
        "role": "tenant_admin",
        "author": f"author@{TENANT}.test",
        "criticality": "high",
        "required_approvals": 2,
        "reason": "replay test",
        "api_request_id": "",
    }


def _actions(api: AdminApi, action: str) -> int:
    events = api.ok("auditor", "GET", "/audit?limit=1000")["events"]
    return sum(1 for e in events if e["action"] == action and e.get("target") == f"{KPI}@2.1.0")


def test_a_replayed_task_event_does_its_work_once_and_returns_the_same_answer(local, api):
    draft = api.ok("author", "POST", f"/kpis/{KPI}/versions", {"reason": "replay test"})
    assert draft["versions"]["2.1.0"]["status"] == "draft"

    # Given the AwaitDecision task's event, delivered twice (same request, same task token)
    parked = {"step": "await", "request": _request(), "task_token": "token-of-the-first-attempt"}
    first = local.stack.invoke("approvals", parked)
    again = local.stack.invoke("approvals", parked)
    assert first == again == {"request_id": REQUEST_ID, "status": "pending"}
    assert _actions(api, "approval.requested") == 1

    # When the Apply task's event is delivered twice
    decision = {
        "outcome": "approved",
        "approvals": [{"approver": f"approver{i}@{TENANT}.test"} for i in (1, 2)],
        "decided_by": f"approver2@{TENANT}.test",
        "reason": "looks right",
    }
    apply = {"step": "apply", "request": {**_request(), "decision": decision}}
    applied = local.stack.invoke("approvals", apply)
    record = api.ok("cto", "GET", f"/kpis/{KPI}")
    settled = api.ok("cto", "GET", f"/approvals/{REQUEST_ID}")
    replayed = local.stack.invoke("approvals", apply)

    # Then the replay answers the first answer, and nothing was applied, written or audited twice
    assert replayed == applied
    assert applied["outcome"] == "approved" and applied["result"]["status"] == "approved"
    assert api.ok("cto", "GET", f"/kpis/{KPI}")["revision"] == record["revision"]
    assert api.ok("cto", "GET", f"/approvals/{REQUEST_ID}")["decided_at"] == settled["decided_at"]
    assert record["versions"]["2.1.0"]["status"] == "approved"
    assert _actions(api, "change.approve.approved") == 1
