"""Demo tenants, seeded through the real paths: signed GitHub-format webhooks → ingest → KPI runs
(state machine: five days of daily backfill runs of a few KPIs, `demo_history`, then one run of every
KPI as of now) → score refresh. One ops-heavy tenant (many services and deploys) and one
admin-heavy tenant (many admins, an approval waiting). The numbers the cockpit shows are computed
from these generated deliveries; none are written directly."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import boto3
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.repos import Catalog
from companyos.domain import clock
from companyos.runs import contracts

from infra.local import demo_github, demo_history, demo_sources, demo_subscribers
from infra.local.auth import LocalIdP
from infra.local.demo_status import SeedProgress
from infra.local.demo_tenants import DEMO, PLATFORM_ADMIN
from infra.local.stack import LocalStack


def total_steps() -> int:
    """The seed's steps: the tenants; per tenant its deployments and sources; the history days; the
    final run."""
    return 1 + len(DEMO) * (1 + len(demo_sources.STEPS)) + demo_history.HISTORY_DAYS + 1


def seed(
    stack: LocalStack, idp: LocalIdP, now: datetime | None = None, progress: SeedProgress | None = None
) -> dict[str, Any]:
    """Everything, in order: the tenants and logins (`seed_tenants`), then their data (`seed_data`)."""
    progress = progress or SeedProgress(tuple(d.tenant.id for d in DEMO), total_steps())
    report = seed_tenants(stack, idp, progress)
    return seed_data(stack, report, now, progress)


def seed_tenants(stack: LocalStack, idp: LocalIdP, progress: SeedProgress) -> dict[str, Any]:
    """The demo tenants, their members and logins (the platform admin's too) and GitHub webhook
    secrets: what the login page and /api/me read. Fast; `make demo` serves after it."""
    catalog = Catalog()
    report: dict[str, Any] = {"tenants": {}, "secrets": {}, "sources": {}}
    with progress.step_of("tenants, members and logins"):
        for demo in DEMO:
            catalog.put_tenant(demo.tenant)
            audit = AuditTrail(demo.tenant.id)
            audit.append(
                AuditEvent("demo-seed", "platform_admin", "tenant.create", demo.tenant.id, "make demo")
            )
            for email, role, display in demo.users:
                catalog.put_member(demo.tenant.id, email, role, display)
                audit.append(AuditEvent("demo-seed", "platform_admin", "member.add", email, f"role {role}"))
                idp.add_user(email, f"{display}, {demo.tenant.name}", {demo.tenant.id: role})
            for repo, service, domain in demo.repos:
                catalog.tenant(demo.tenant.id).map_source_entity("github", repo, service, domain)
            # the persona users subscribed to their alerts (the local outbox shows what they got)
            report.setdefault("subscribers", {})[demo.tenant.id] = demo_subscribers.seed(demo, clock.now())
            secret = secrets.token_hex(16)
            stack.put_webhook_secret(demo.tenant.id, "github", secret)
            report["secrets"][demo.tenant.id] = secret
        platform = {d.tenant.id: "platform_admin" for d in DEMO}
        for tenant_id in platform:
            catalog.put_member(tenant_id, PLATFORM_ADMIN[0], "platform_admin", PLATFORM_ADMIN[1])
        idp.add_user(PLATFORM_ADMIN[0], PLATFORM_ADMIN[1], platform)
    return report


def seed_data(
    stack: LocalStack, report: dict[str, Any], now: datetime | None, progress: SeedProgress
) -> dict[str, Any]:
    """Every tenant's deliveries, the run history and the final run of every KPI (its dashboards)."""
    now = now or clock.now()
    for demo in DEMO:
        secret = report["secrets"][demo.tenant.id]
        with progress.step_of(f"{demo.tenant.id}: GitHub deployments"):
            report["tenants"][demo.tenant.id] = demo_github.seed_deploys(stack, demo, secret, now)
        deployed = demo_github.DEPLOYED[demo.tenant.id]
        report["sources"][demo.tenant.id] = demo_sources.seed_sources(
            stack, demo, secret, now, deployed, progress
        )
    tenant_ids = [d.tenant.id for d in DEMO]
    # the past days' runs first (with the admins' contract changes), so the final run is the newest
    report["history"] = demo_history.seed_history(stack, tenant_ids, now, progress)
    with progress.step_of("final run of every KPI, then the dashboards' snapshots"):
        report["run"] = run_all(stack, tenant_ids, "demo-seed")
    progress.finish(tenant_ids, report["run"]["status"])
    # every audit record of the seed sealed and signed (the stream poller would, within a second)
    report["notifications"] = stack.deliver_notifications()  # the alerts of the seed's runs, delivered
    report["audit_sealed"] = stack.seal_audit()
    stack.invoke("audit_sealer", {"chains": [*tenant_ids, "PLATFORM"]})  # genesis/heartbeat digests
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
