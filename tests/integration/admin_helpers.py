"""Shared helpers of the admin control-plane integration tests (tenants with admins, polling)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import boto3

from tests.conftest import Reply, Running

ALWAYS_OPEN = {"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "24:00", "reason": "tests"}
NEVER_OPEN = {"days": [], "start": "00:00", "end": "24:00", "reason": "freeze"}


@dataclass
class AdminTenant:
    id: str
    tokens: dict[str, str]  # author / approver1 / approver2 / auditor / cto


def make_admin_tenant(local: Running, tenant_id: str) -> AdminTenant:
    from companyos.adapters.repos import Catalog, Tenant

    catalog = Catalog()
    catalog.put_tenant(Tenant(tenant_id, tenant_id.title(), "prod", True, "us-east-1", "dora-2024", "test"))
    people = {
        "author": "tenant_admin",
        "approver1": "tenant_admin",
        "approver2": "tenant_admin",
        "auditor": "auditor",
        "cto": "cto",
    }
    tokens = {}
    for who, role in people.items():
        email = f"{who}@{tenant_id}.test"
        catalog.put_member(tenant_id, email, role, who)
        local.idp.add_user(email, who, {tenant_id: role})
        tokens[who] = local.client.login(email)
    return AdminTenant(tenant_id, tokens)


class AdminApi:
    def __init__(self, local: Running, tenant: AdminTenant) -> None:
        self.local, self.tenant = local, tenant

    def call(self, who: str, method: str, path: str, body: dict[str, Any] | None = None) -> Reply:
        sep = "&" if "?" in path else "?"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        return self.local.client.request(
            method, f"/api{path}{sep}tenant={self.tenant.id}", data, headers, self.tenant.tokens[who]
        )

    def ok(self, who: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = self.call(who, method, path, body)
        assert reply.status == 200, (reply.status, reply.body)
        return reply.body

    def wait_pending(self, request_id: str, timeout_s: float = 30) -> dict[str, Any]:
        """Until the AwaitDecision task has parked the request on its task token."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reply = self.call("cto", "GET", f"/approvals/{request_id}")
            if reply.status == 200 and reply.body["status"] == "pending":
                return dict(reply.body)
            time.sleep(0.05)
        raise TimeoutError(f"change request {request_id} never became pending")

    def wait_settled(self, submitted: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
        desc = self.local.stack.wait_for_execution(submitted["execution_arn"], timeout_s)
        assert desc["status"] == "SUCCEEDED", desc
        return self.ok("cto", "GET", f"/approvals/{submitted['request_id']}")

    def approve_all(self, submitted: dict[str, Any], approvers: tuple[str, ...]) -> dict[str, Any]:
        self.wait_pending(submitted["request_id"])
        for who in approvers:
            self.ok(who, "POST", f"/approvals/{submitted['request_id']}/decision", {"decision": "approve"})
        return self.wait_settled(submitted)


def execution_status(arn: str) -> str:
    return str(boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"])


def open_admin_api(local: Running, name: str) -> tuple[AdminTenant, AdminApi]:
    """A fresh admin tenant and its API client, with the change window always open."""
    tenant = make_admin_tenant(local, name)
    api = AdminApi(local, tenant)
    api.ok("approver1", "PUT", "/admin/change-window", ALWAYS_OPEN)
    return tenant, api
