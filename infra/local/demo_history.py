"""Demo run history: the past days' daily runs of a few KPIs, replayed through the real kpi_run
state machine as backfill runs (a manual trigger with `as_of`, one execution per day, oldest first),
with the contract versions the tenants' admins published along the way.

Nothing is written to the run log directly. What the monitoring views show comes from the seeded
data and these contracts:

- Globex's admin made deploy freshness a hard rule for deployment_frequency (newest deploy at most
  24 h old): Globex deploys about once a day at random hours, so some days' runs are `skipped`.
- Globex's admin tightened change_failure_rate's variance rule to a blocking 25 %: with a handful of
  deploys a week the rate swings more than that, so deliveries are blocked (`failed`,
  POST_VALIDATION_FAILED, rule type variance) until the second admin rolls the version back.
- Northwind's head of ops set a 1 s SLA on weekly_active_users, whose run reads every product
  telemetry signal of its windows (84 days of analytics) and takes longer: delivered, flagged
  `sla_breached`.

The seed's final run (`seed.run_all`) starts after these, so the newest delivered values — what the
snapshots and the cockpit show — are computed as of now."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.admin import catalog as admin_catalog
from companyos.runs import contracts

from infra.local.demo_status import SeedProgress
from infra.local.stack import LocalStack

HISTORY_DAYS = 5  # daily as-of times: now - 5 d ... now - 1 d (+ the final run: 6 runs per KPI)
# (tenant, KPI) pairs replayed each day: cheap signal-based KPIs, so seeding stays fast
HISTORY_PAIRS = (
    ("northwind", "deployment_frequency"),
    ("northwind", "change_failure_rate"),
    ("northwind", "mttr"),
    ("globex", "deployment_frequency"),
    ("globex", "change_failure_rate"),
)
BACKFILL_BY = "demo-seed:backfill (daily schedule)"


@dataclass(frozen=True)
class ContractChange:
    """A tenant contract version an admin publishes (`days_ago` before now, before that day's run),
    optionally rolled back by another admin after the run of `rollback_days_ago`."""

    tenant_id: str
    kpi_id: str
    version: str
    days_ago: int  # published before the run as of now - days_ago (0: before the final run)
    actor: tuple[str, str]  # (email, role)
    reason: str
    variant_label: str
    pre_rules: dict[str, dict[str, Any]] | None = None  # rule id → replacement fields
    post_rules: dict[str, dict[str, Any]] | None = None
    sla: dict[str, Any] | None = None
    rollback_days_ago: int | None = None
    rollback_actor: tuple[str, str] | None = None

    def contract(self) -> contracts.Contract:
        base = contracts.get(self.kpi_id).to_state()
        doc = {**base, "version": self.version, "tenant_id": self.tenant_id}
        doc["variant_label"] = self.variant_label
        for key, edits in (("pre_rules", self.pre_rules), ("post_rules", self.post_rules)):
            if edits:
                doc[key] = [{**r, **edits[r["id"]]} if r["id"] in edits else r for r in base[key]]
        if self.sla:
            doc["sla"] = {**base["sla"], **self.sla}
        return contracts.Contract.model_validate(doc)


CHANGES = (
    ContractChange(
        "globex",
        "deployment_frequency",
        "2.1.0",
        days_ago=HISTORY_DAYS,
        actor=("admin@globex.demo", "tenant_admin"),
        reason="do not report deploy frequency from a deploy feed older than a day",
        variant_label="hard freshness: newest deploy ≤ 24 h",
        pre_rules={"deployments_fresh": {"severity": "error", "params": {"max_age_hours": 24}}},
    ),
    ContractChange(
        "globex",
        "change_failure_rate",
        "2.1.0",
        days_ago=4,
        actor=("admin@globex.demo", "tenant_admin"),
        reason="block change failure rates that jump more than 25 % week over week",
        variant_label="blocking variance ≤ 25 %",
        post_rules={"rate_variance": {"severity": "error", "params": {"max_change_pct": 25}}},
        rollback_days_ago=2,
        rollback_actor=("admin2@globex.demo", "tenant_admin"),
    ),
    ContractChange(
        "northwind",
        "weekly_active_users",
        "1.2.0",
        days_ago=0,
        actor=("ops@northwind.demo", "head_ops"),
        reason="product KPIs must be computed within a second",
        variant_label="SLA 1 s",
        sla={"max_duration_s": 1},
    ),
)


def _audit(
    tenant_id: str, actor: tuple[str, str], action: str, target: str, reason: str, **details: Any
) -> None:
    AuditTrail(tenant_id).append(
        AuditEvent(actor[0], actor[1], action, target, reason, details={"env": "prod", **details})
    )


def publish(change: ContractChange) -> None:
    """Publish the tenant version and point the tenant's runs at it, audited as the admin's change."""
    contract = change.contract()
    store = contracts.ContractStore(change.tenant_id)
    if store.version(contract.kpi_id, contract.version) is None:
        store.publish(contract)
    store.activate(contract.kpi_id, contract.version)
    _audit(change.tenant_id, change.actor, "kpi.publish", f"{change.kpi_id}@{change.version}", change.reason)


def rollback(change: ContractChange, outcomes: list[str]) -> None:
    """Back to the platform's version: the tenant's runtime pointer goes (the admin rollback's effect)."""
    assert change.rollback_actor
    admin_catalog.move_runtime_pointer(change.tenant_id, change.kpi_id, None)
    blocked = sum(1 for s in outcomes if s == "failed")
    _audit(
        change.tenant_id,
        change.rollback_actor,
        "kpi.rollback",
        f"{change.kpi_id}@{change.version}",
        f"{blocked} of {len(outcomes)} runs under v{change.version} were blocked by "
        + ", ".join({**(change.pre_rules or {}), **(change.post_rules or {})}),
        to=contracts.get(change.kpi_id).version,
    )


def _start(stack: LocalStack, pairs: list[dict[str, str]], as_of: datetime) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.state_machines["kpi_run"],
        name=f"backfill-{as_of:%Y%m%dT%H%M}-{secrets.token_hex(4)}",
        input=json.dumps(
            {"pairs": pairs, "trigger": {"type": "manual", "by": BACKFILL_BY, "as_of": as_of.isoformat()}}
        ),
    )["executionArn"]
    desc = stack.wait_for_execution(arn, timeout_s=900)  # a readiness wait, not a speed check
    return {"execution": arn, "status": desc["status"], "output": json.loads(desc.get("output") or "{}")}


def seed_history(
    stack: LocalStack, tenant_ids: list[str], now: datetime, progress: SeedProgress | None = None
) -> dict[str, Any]:
    """Daily backfill runs as of now - HISTORY_DAYS ... now - 1 day, and the contract changes
    published before the final run (days_ago 0). Returns the statuses per day and pair."""
    progress = progress or SeedProgress()
    pairs = [{"tenant_id": t, "kpi_id": k} for t, k in HISTORY_PAIRS if t in tenant_ids]
    changes = [c for c in CHANGES if c.tenant_id in tenant_ids]
    days: dict[str, Any] = {}
    under: dict[tuple[str, str], list[str]] = {}  # statuses of the runs under each published change
    for ago in range(HISTORY_DAYS, 0, -1):
        for change in changes:
            if change.days_ago == ago:
                publish(change)
                under[(change.tenant_id, change.kpi_id)] = []
        as_of = now - timedelta(days=ago)
        started = time.monotonic()
        with progress.step_of(f"run history: daily runs as of {as_of:%Y-%m-%d}"):
            result = _start(stack, pairs, as_of)
        statuses = {
            f"{r['tenant_id']}/{r['kpi_id']}": r["status"] for r in result["output"].get("results", [])
        }
        days[as_of.date().isoformat()] = {
            "status": result["status"],
            "runs": statuses,
            "seconds": round(time.monotonic() - started, 1),
        }
        for key, outcomes in under.items():
            if f"{key[0]}/{key[1]}" in statuses:
                outcomes.append(statuses[f"{key[0]}/{key[1]}"])
        for change in changes:
            if change.rollback_days_ago == ago:
                rollback(change, under.pop((change.tenant_id, change.kpi_id), []))
    for change in changes:
        if change.days_ago == 0:
            publish(change)
    return days
