"""Demo tenants, seeded through the real paths: signed GitHub-format webhooks → ingest → KPI runs
(state machine: five days of daily backfill runs of a few KPIs, `demo_history`, then one run of every
KPI as of now) → score refresh. One ops-heavy tenant (many services and deploys) and one
admin-heavy tenant (many admins, an approval waiting). The numbers the cockpit shows are computed
from these generated deliveries; none are written directly."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.repos import Catalog, Tenant
from companyos.domain import clock
from companyos.ingest import ingest, secrets_from_value
from companyos.runs import contracts
from companyos.sources.base import WebhookRequest, hmac_sha256_hex

from infra.local import demo_history, demo_sources
from infra.local.auth import LocalIdP
from infra.local.stack import LocalStack


@dataclass(frozen=True)
class DemoTenant:
    tenant: Tenant
    users: tuple[tuple[str, str, str], ...]  # (email, role, display)
    repos: tuple[tuple[str, str, str], ...]  # (repo full name, service, domain)
    deploys_per_day: float
    failure_rate: float
    days: int = 45
    # PagerDuty services (id, service) of the repos' services, incidents per day, share of P1s
    pd_services: tuple[tuple[str, str], ...] = ()
    incidents_per_day: float = 0.0
    p1_share: float = 0.15
    products: tuple[str, ...] = ("cockpit",)
    accounts: int = 40  # paying customer accounts (billing, NPS, analytics)
    requests_per_s: float = 20.0  # Prometheus traffic per service
    # Monthly cloud budget = last month's CUR cost x (1 + this): a tenant contract version of
    # infra_cost_mtd with budget_vs_actual ("vs plan" on the Ops tile). None: no plan.
    cost_plan_growth: float | None = None


DEMO = (
    DemoTenant(
        Tenant("northwind", "Northwind Ops", "prod", True, "us-east-1", "dora-2024", "ops-heavy"),
        cost_plan_growth=0.05,
        users=(
            ("ceo@northwind.demo", "ceo", "Nora (CEO)"),
            ("cto@northwind.demo", "cto", "Casey (CTO)"),
            ("ciso@northwind.demo", "ciso", "Sam (CISO)"),
            ("ops@northwind.demo", "head_ops", "Omar (Head of Ops)"),
            ("product@northwind.demo", "head_product", "Priya (Head of Product)"),
        ),
        repos=(
            ("northwind/api", "api", "API Gateway"),
            ("northwind/web", "web", "Frontend"),
            ("northwind/ingest", "ingest", "Data Platform"),
            ("northwind/gateway", "gateway", "API Gateway"),
        ),
        deploys_per_day=6.0,
        failure_rate=0.08,
        pd_services=(("PNW0API", "api"), ("PNW0WEB", "web"), ("PNW0ING", "ingest"), ("PNW0GW", "gateway")),
        incidents_per_day=1.0,
        products=("fleet", "routing"),
        accounts=120,
        requests_per_s=60.0,
    ),
    DemoTenant(
        Tenant("globex", "Globex Admin", "prod", True, "eu-west-1", "dora-2023", "admin-heavy"),
        users=(
            ("admin@globex.demo", "tenant_admin", "Ada (Tenant admin)"),
            ("admin2@globex.demo", "tenant_admin", "Ben (Tenant admin)"),
            ("auditor@globex.demo", "auditor", "Aud (Auditor)"),
            ("cto@globex.demo", "cto", "Gwen (CTO)"),
        ),
        repos=(("globex/portal", "portal", "Frontend"),),
        deploys_per_day=0.8,
        failure_rate=0.2,
        pd_services=(("PGX0PORTAL", "portal"),),
        incidents_per_day=0.2,
        products=("portal",),
        accounts=25,
        requests_per_s=4.0,
    ),
)
PLATFORM_ADMIN = ("platform@companyos.demo", "Pat (Platform admin)")
# (repo, sha, state, at) of every generated deployment per tenant: the pushes and builds the other
# demo sources generate lead to these very commits
DEPLOYED: dict[str, list[tuple[str, str, str, datetime]]] = {}


def deployment_status_payload(
    repo: str, n: int, state: str, at: datetime, rng: random.Random
) -> dict[str, Any]:
    """A GitHub `deployment_status` webhook body (the shape of GitHub's own payload)."""
    sha = f"{rng.getrandbits(160):040x}"
    ts = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    owner, name = repo.split("/")
    return {
        "action": "created",
        "deployment_status": {
            "id": 900000 + n,
            "state": state,
            "environment": "production",
            "description": f"Deploy {state}",
            "created_at": ts,
            "updated_at": ts,
            "creator": {"login": "deploy-bot", "type": "Bot"},
        },
        "deployment": {
            "id": 500000 + n,
            "sha": sha,
            "ref": "main",
            "task": "deploy",
            "environment": "production",
            "created_at": (at - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "repository": {
            "id": abs(hash(repo)) % 10**8,
            "name": name,
            "full_name": repo,
            "private": True,
            "owner": {"login": owner, "type": "Organization"},
        },
        "sender": {"login": "deploy-bot", "type": "Bot"},
    }


def _secret_lookup(stack: LocalStack) -> Callable[[str, str], list[str]]:
    sm = boto3.client("secretsmanager")
    assert stack.settings
    prefix = stack.settings.webhook_secret_prefix

    def lookup(tenant_id: str, source: str) -> list[str]:
        name = f"{prefix}/{tenant_id}/{source}"
        return secrets_from_value(sm.get_secret_value(SecretId=name)["SecretString"])

    return lookup


def _seed_deploys(stack: LocalStack, demo: DemoTenant, secret: str, now: datetime) -> int:
    rng = random.Random(demo.tenant.id)
    lookup, count = _secret_lookup(stack), 0
    DEPLOYED[demo.tenant.id] = []
    for day in range(demo.days, -1, -1):
        for _ in range(max(0, round(rng.gauss(demo.deploys_per_day, demo.deploys_per_day / 3)))):
            at = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            if at > now:
                continue
            repo = rng.choice(demo.repos)[0]
            state = "failure" if rng.random() < demo.failure_rate else "success"
            payload = deployment_status_payload(repo, count, state, at, rng)
            DEPLOYED.setdefault(demo.tenant.id, []).append((repo, payload["deployment"]["sha"], state, at))
            body = json.dumps(payload).encode()
            headers = {
                "x-github-event": "deployment_status",
                "x-github-delivery": f"{demo.tenant.id}-{count}",
                "x-hub-signature-256": "sha256=" + hmac_sha256_hex(secret, body),
            }
            ingest(
                demo.tenant.id,
                "github",
                WebhookRequest(headers, body),
                max_bytes=1_000_000,
                secrets=lookup,
                start_run=lambda *_: None,
            )
            count += 1
    return count


def seed(stack: LocalStack, idp: LocalIdP, now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    catalog = Catalog()
    report: dict[str, Any] = {"tenants": {}, "secrets": {}, "sources": {}}
    for demo in DEMO:
        catalog.put_tenant(demo.tenant)
        audit = AuditTrail(demo.tenant.id)
        audit.append(AuditEvent("demo-seed", "platform_admin", "tenant.create", demo.tenant.id, "make demo"))
        for email, role, display in demo.users:
            catalog.put_member(demo.tenant.id, email, role, display)
            audit.append(AuditEvent("demo-seed", "platform_admin", "member.add", email, f"role {role}"))
            idp.add_user(email, f"{display}, {demo.tenant.name}", {demo.tenant.id: role})
        for repo, service, domain in demo.repos:
            catalog.tenant(demo.tenant.id).map_source_entity("github", repo, service, domain)
        secret = secrets.token_hex(16)
        stack.put_webhook_secret(demo.tenant.id, "github", secret)
        report["secrets"][demo.tenant.id] = secret
        report["tenants"][demo.tenant.id] = _seed_deploys(stack, demo, secret, now)
        deployed = DEPLOYED[demo.tenant.id]
        report["sources"][demo.tenant.id] = demo_sources.seed_sources(stack, demo, secret, now, deployed)
    platform = {d.tenant.id: "platform_admin" for d in DEMO}
    for tenant_id in platform:
        catalog.put_member(tenant_id, PLATFORM_ADMIN[0], "platform_admin", PLATFORM_ADMIN[1])
    idp.add_user(PLATFORM_ADMIN[0], PLATFORM_ADMIN[1], platform)
    tenant_ids = [d.tenant.id for d in DEMO]
    # the past days' runs first (with the admins' contract changes), so the final run is the newest
    report["history"] = demo_history.seed_history(stack, tenant_ids, now)
    report["run"] = run_all(stack, tenant_ids, "demo-seed")
    return report


def run_all(stack: LocalStack, tenant_ids: list[str], by: str) -> dict[str, Any]:
    """One manual KPI run over every (tenant, KPI with a contract), through the state machine."""
    sfn = boto3.client("stepfunctions")
    pairs = [{"tenant_id": t, "kpi_id": k} for t in tenant_ids for k in contracts.CONTRACTS]
    arn = sfn.start_execution(
        stateMachineArn=stack.state_machines["kpi_run"],
        name=f"manual-{by}-{secrets.token_hex(4)}",
        input=json.dumps({"pairs": pairs, "trigger": {"type": "manual", "by": by}}),
    )["executionArn"]
    desc = stack.wait_for_execution(arn, timeout_s=900)  # a readiness wait, not a speed check
    return {"execution": arn, "status": desc["status"]}
