from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Running


@dataclass
class TenantFixture:
    id: str
    secret: str
    cto_token: str
    product_token: str


def make_tenant(local: Running, tenant_id: str, name: str) -> TenantFixture:
    from companyos.adapters.repos import Catalog, Tenant

    catalog = Catalog()
    catalog.put_tenant(Tenant(tenant_id, name, "prod", True, "us-east-1", "dora-2024", "test"))
    for role in ("cto", "head_product"):
        email = f"{role}@{tenant_id}.test"
        catalog.put_member(tenant_id, email, role, role)
        local.idp.add_user(email, f"{role} of {name}", {tenant_id: role})
    catalog.tenant(tenant_id).map_source_entity("github", "Codertocat/Hello-World", "hello", "Frontend")
    secret = secrets.token_hex(16)
    local.stack.put_webhook_secret(tenant_id, "github", secret)
    return TenantFixture(
        tenant_id,
        secret,
        local.client.login(f"cto@{tenant_id}.test"),
        local.client.login(f"head_product@{tenant_id}.test"),
    )


def run_kpis(
    local: Running, tenant_id: str, kpi_ids: list[str], as_of: datetime, name: str
) -> dict[str, Any]:
    """One manual kpi_run execution of (tenant, KPI) pairs at `as_of` through the state machine,
    waited for; its output (runs by status, refreshed tenants)."""
    import boto3

    arn = boto3.client("stepfunctions").start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name=name,
        input=json.dumps(
            {
                "pairs": [{"tenant_id": tenant_id, "kpi_id": k} for k in kpi_ids],
                "trigger": {"type": "manual", "by": "test", "as_of": as_of.isoformat()},
            }
        ),
    )["executionArn"]
    desc = local.stack.wait_for_execution(arn, timeout_s=120)
    assert desc["status"] == "SUCCEEDED", desc
    return dict(json.loads(desc["output"]))


@pytest.fixture(scope="module")
def acme(local: Running) -> TenantFixture:
    return make_tenant(local, "acme", "Acme Corp")


@pytest.fixture(scope="module")
def umbrella(local: Running) -> TenantFixture:
    return make_tenant(local, "umbrella", "Umbrella Inc")
